metadata description = 'Every role assignment of the deployment, least privilege, each scoped to the one resource it is for.'

@description('Principal (object) id of the app\'s user-assigned identity; the assignments\' names are made from it, as they have been since the first deployment (ARM refuses a second assignment of the same role to the same principal under another name).')
param appPrincipalId string

@description('Principal (object) id of whoever runs azd; empty to grant nothing.')
param deployerPrincipalId string = ''

param storageAccountName string
param keyVaultName string
param applicationInsightsName string

@description('Whether the models are deployments of a Foundry resource (rather than serverless endpoints).')
param useFoundry bool

@description('Name of the Foundry resource; only used when `useFoundry`, but always a valid name, as ARM checks the names of conditional resources too.')
param foundryAccountName string

@description('Whether the Logic Apps sample workflow is deployed.')
param useLogicAppsSample bool = false

@description('Principal (object) id of the Logic Apps sample workflow\'s identity; only used when `useLogicAppsSample`.')
param logicAppsSamplePrincipalId string = ''

@description('The secret holding the sample workflow\'s caller key, in the app\'s vault.')
param logicAppsSampleKeySecretName string = 'logic-apps-sample-key'

// Built-in role definition ids (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  cognitiveServicesUser: 'a97b65f3-24c7-4388-baec-2e87135dc908'
}

resource storage 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource logicAppsSampleKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' existing = if (useLogicAppsSample) {
  parent: vault
  name: logicAppsSampleKeySecretName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource foundry 'Microsoft.CognitiveServices/accounts@2026-07-01' existing = if (useFoundry) {
  name: foundryAccountName
}

// Storage Blob Data Owner (b7e6dc6d-f1e8-4753-8033-0f276bb0955b) on the app's storage: the Functions host keeps
// its keys and leases in blobs (AzureWebJobsStorage__*), Flex Consumption reads the deployment package, and the
// app writes and reads the chat jobs' large requests and results in their container (JOB_CONTAINER).
resource appBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor (0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3) on the app's storage: the quota counters
// (QUOTA_TABLE), the Idempotency-Keys (IDEMPOTENCY_TABLE), the chat jobs (JOB_TABLE) and the host's diagnostic
// events are tables.
resource appTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor (974c5e8b-45b9-4653-ba55-5f855dd0fb88) on the app's storage: the chat job queue
// (JOB_QUEUE). The app enqueues jobs, and the queue trigger reads and deletes messages and moves those that keep
// failing to the poison queue (`<queue>-poison`). The job table and container need no role of their own: Blob
// Data Owner and Table Data Contributor above cover them.
resource appQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets User (4633458b-17de-408a-b874-0445c86b69e6) on the app's vault: the platform resolves the
// CALLER_KEYS reference as this identity, and the app reads serverless endpoint keys (MODEL_<ALIAS>_KEY_SECRET_URI).
resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Monitoring Metrics Publisher (3913510d-42f4-4e42-8a64-420c390055eb) on Application Insights: local
// authentication is off, so telemetry is accepted only with this identity's token
// (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Cognitive Services User (a97b65f3-24c7-4388-baec-2e87135dc908) on the Foundry resource: chat completions with
// an Entra ID token (MODEL_<ALIAS>_AUTH=entra), the only way in since the resource has no keys.
resource appCognitiveServicesUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useFoundry) {
  name: guid(foundry.id, appPrincipalId, roles.cognitiveServicesUser)
  scope: foundry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets Officer (b86a8fe4-44ce-4948-aee5-eccb2c155cd7) on the app's vault, for whoever runs azd: in
// RBAC mode even a subscription Owner cannot write secrets without it, and the operator writes CALLER_KEYS'
// secret (see the postprovision hook) and rotates keys.
resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
  }
}

// Key Vault Secrets User (4633458b-17de-408a-b874-0445c86b69e6) on one secret, for the Logic Apps sample
// workflow: it reads its own caller key at run time, and nothing else in the vault (not CALLER_KEYS, not a
// model's key).
resource logicAppsSampleSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (useLogicAppsSample) {
  name: guid(logicAppsSampleKeySecret.id, logicAppsSamplePrincipalId, roles.keyVaultSecretsUser)
  scope: logicAppsSampleKeySecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: logicAppsSamplePrincipalId
    principalType: 'ServicePrincipal'
  }
}
