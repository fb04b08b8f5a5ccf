metadata description = 'A Key Vault in RBAC mode with purge protection: access only through role assignments, and nothing in it can be destroyed before its retention ends.'
import { stringMap } from '../types.bicep'

@description('Name of the vault: 3 to 24 letters, digits and hyphens, starting with a letter.')
param name string

param location string
param tags stringMap = {}

@minValue(7)
@maxValue(90)
@description('Days a deleted vault or secret can be recovered. With purge protection the name stays taken for as long.')
param softDeleteRetentionInDays int = 90

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC, not access policies: who may read or write secrets is in role-assignments.bicep.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

output name string = vault.name
output id string = vault.id
@description('The vault URI, ending in a slash: https://<name>.vault.azure.net/')
output uri string = vault.properties.vaultUri
