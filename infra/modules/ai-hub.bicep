metadata description = 'A Foundry hub and its project: where serverless API endpoints live.'
import { stringMap } from '../types.bicep'

param hubName string
param projectName string
param location string
param tags stringMap = {}

@description('Resource id of the hub\'s own storage account (shared key disabled).')
param storageAccountId string

@description('Resource id of the hub\'s own Key Vault.')
param keyVaultId string

resource hub 'Microsoft.MachineLearningServices/workspaces@2026-05-01' = {
  name: hubName
  location: location
  tags: tags
  kind: 'Hub'
  sku: {
    name: 'Basic'
    tier: 'Basic'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    friendlyName: 'Mistral models (${hubName})'
    storageAccount: storageAccountId
    keyVault: keyVaultId
    // The storage account takes no shared key, so the hub reaches its datastores with its identity.
    systemDatastoresAuthMode: 'Identity'
    publicNetworkAccess: 'Enabled'
  }
}

resource project 'Microsoft.MachineLearningServices/workspaces@2026-05-01' = {
  name: projectName
  location: location
  tags: tags
  kind: 'Project'
  sku: {
    name: 'Basic'
    tier: 'Basic'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    friendlyName: 'Mistral serverless endpoints (${projectName})'
    hubResourceId: hub.id
    publicNetworkAccess: 'Enabled'
  }
}

output hubName string = hub.name
output projectName string = project.name
