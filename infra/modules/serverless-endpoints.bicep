metadata description = 'Mistral models as serverless API endpoints in a hub project, each key written straight into Key Vault.'

import { modelDeployment, serverlessModel, stringMap } from '../types.bicep'

@description('The hub project the endpoints belong to.')
param projectName string

param location string
param tags stringMap = {}

@description('The endpoints, one per model alias.')
param models serverlessModel[]

@description('Appended to each alias: an endpoint name is its host name, so it must be unique in the region.')
param endpointNameSuffix string

@description('The app\'s Key Vault, where each endpoint key is kept.')
param keyVaultName string

resource project 'Microsoft.MachineLearningServices/workspaces@2026-05-01' existing = {
  name: projectName
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

var registry = 'azureml://registries/azureml-mistral/models'

// Mistral's models are sold through Azure Marketplace: one subscription to the offer per model and project.
resource marketplaceSubscriptions 'Microsoft.MachineLearningServices/workspaces/marketplaceSubscriptions@2026-05-01' = [
  for model in models: {
    parent: project
    name: model.alias
    properties: {
      // A model registry's id (azureml://registries/...), not an Azure resource id.
      #disable-next-line use-resource-id-functions
      modelId: '${registry}/${model.model}'
    }
  }
]

resource endpoints 'Microsoft.MachineLearningServices/workspaces/serverlessEndpoints@2026-05-01' = [
  for model in models: {
    parent: project
    name: '${model.alias}-${endpointNameSuffix}'
    location: location
    tags: tags
    sku: {
      name: 'Consumption'
    }
    properties: {
      modelSettings: {
        // A model registry's id (azureml://registries/...), not an Azure resource id.
        #disable-next-line use-resource-id-functions
        modelId: '${registry}/${model.model}'
      }
      // Serverless Mistral endpoints take keys only, hence Key Vault.
      authMode: 'Key'
      contentSafety: {
        contentSafetyStatus: 'Enabled'
      }
    }
    dependsOn: [
      marketplaceSubscriptions
    ]
  }
]

// The key goes from the endpoint into Key Vault inside Azure Resource Manager: it is in no output, no
// parameter and no deployment history. Provisioning again writes the current key (after a rotation).
resource endpointKeys 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = [
  for (model, i) in models: {
    parent: vault
    name: '${model.alias}-endpoint-key'
    properties: {
      value: endpoints[i].listKeys().primaryKey
      contentType: 'text/plain'
    }
  }
]

@description('Per alias: the endpoint, the `model` the app names, and where its key is (never the key).')
output deployments modelDeployment[] = [
  for (model, i) in models: {
    alias: model.alias
    endpoint: endpoints[i].properties.inferenceEndpoint.uri
    model: model.model
    keySecretUri: '${vault.properties.vaultUri}secrets/${endpointKeys[i].name}'
  }
]
