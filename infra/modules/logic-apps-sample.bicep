metadata description = 'A sample Consumption Logic App that summarises a document through the chat jobs route, with the caller key it reads from Key Vault at run time.'
import { stringMap } from '../types.bicep'

param name string
param location string
param tags stringMap = {}

@description('The app\'s API, without a trailing slash: https://<app>.azurewebsites.net/api')
param apiBaseUrl string

@description('The app\'s Key Vault, where the workflow\'s key is kept.')
param keyVaultName string

@description('Name of the secret holding the workflow\'s caller key.')
param keySecretName string

@secure()
@minLength(32)
@description('The workflow\'s caller key. The postprovision hook puts its hash in CALLER_KEYS; nothing else keeps it.')
param callerKey string

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

// Written on every provisioning with the key it is given, so provisioning again rotates the sample's key.
resource keySecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {
  parent: vault
  name: keySecretName
  properties: {
    value: callerKey
    contentType: 'Caller key of the Logic Apps sample workflow; its hash is in the caller-keys secret.'
  }
}

// The definition is a file of its own (checked against the Workflow Definition Language schema by the tests);
// only URLs reach it here. The key is read by the workflow at run time, never written into it.
resource workflow 'Microsoft.Logic/workflows@2019-05-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    state: 'Enabled'
    definition: loadJsonContent('../logic-apps/summarise-document.workflow.json')
    parameters: {
      apiBaseUrl: {
        value: apiBaseUrl
      }
      callerKeySecretUri: {
        value: '${vault.properties.vaultUri}secrets/${keySecret.name}'
      }
    }
  }
}

output name string = workflow.name
@description('Object id of the workflow\'s system-assigned identity: Key Vault Secrets User on its key\'s secret alone.')
output principalId string = workflow.identity.principalId
output keySecretName string = keySecret.name
