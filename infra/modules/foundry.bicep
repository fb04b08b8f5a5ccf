metadata description = 'Mistral models on a Foundry (AI Services) resource: keyless, the app authenticates with Entra ID.'

import { foundryModel, modelDeployment, stringMap } from '../types.bicep'

@description('Name of the resource; also its subdomain, <name>.services.ai.azure.com.')
param name string

param location string
param tags stringMap = {}

@description('The deployments, one per model alias.')
param models foundryModel[]

resource account 'Microsoft.CognitiveServices/accounts@2026-07-01' = {
  name: name
  location: location
  tags: tags
  kind: 'AIServices'
  sku: {
    name: 'S0'
  }
  properties: {
    // Entra ID tokens are accepted only on the resource's own subdomain.
    customSubDomainName: name
    // Keyless: no account key works; callers need a token and the Cognitive Services User role.
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
    }
  }
}

// NOTE: a resource takes one deployment change at a time; in parallel the others fail with a conflict.
@batchSize(1)
resource deployments 'Microsoft.CognitiveServices/accounts/deployments@2026-07-01' = [
  for model in models: {
    parent: account
    name: model.alias
    sku: {
      name: model.?sku ?? 'GlobalStandard'
      capacity: model.?capacity ?? 1
    }
    properties: {
      model: {
        format: 'Mistral AI'
        name: model.model
        version: model.version
      }
      // Content safety on: prompts and completions go through the default content filters.
      raiPolicyName: 'Microsoft.DefaultV2'
    }
  }
]

// The resource's two model APIs: the Azure AI Model Inference API (every deployment below one `/models`
// endpoint, `model` picks) and the OpenAI v1 API (the same, below `/openai/v1`).
var inferenceEndpoint = 'https://${name}.services.ai.azure.com/models'
var openAiV1Endpoint = 'https://${name}.services.ai.azure.com/openai/v1'

output name string = account.name
output id string = account.id
output inferenceEndpoint string = inferenceEndpoint

@description('Per alias: where the app sends requests and the `model` it names (the deployment). No keys: there are none.')
output deployments modelDeployment[] = [
  for (model, i) in models: {
    alias: model.alias
    api: model.?api ?? 'model-inference'
    endpoint: (model.?api ?? 'model-inference') == 'openai-v1' ? openAiV1Endpoint : inferenceEndpoint
    model: deployments[i].name
    // Azure's documented limits for the deployment, not its capacity: a partner model's capacity is 1.
    tokensPerMinute: model.?tokensPerMinute ?? 200000
    requestsPerMinute: model.?requestsPerMinute ?? 1000
  }
]
