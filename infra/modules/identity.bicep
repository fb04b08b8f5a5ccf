metadata description = 'The app\'s user-assigned managed identity: the one principal it uses for storage, Key Vault, the model and telemetry.'
import { stringMap } from '../types.bicep'

@description('Name of the identity.')
param name string

param location string
param tags stringMap = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
