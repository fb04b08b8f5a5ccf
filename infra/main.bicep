// `azd up`: the Mistral model endpoint and the function app wired to it, keyless where Azure allows.
// Each module has one job; every role assignment is in modules/role-assignments.bicep.
targetScope = 'subscription'

metadata description = 'Mistral chat on Azure Functions: a Flex Consumption function app in front of Mistral models on Azure AI.'

import { foundryModel, modelEndpoint, serverlessModel, stringMap } from 'types.bicep'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment: names the resource group and tags every resource.')
param environmentName string

@minLength(1)
@description('Region of the function app, storage, Key Vault and monitoring.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Region of the models (the Foundry resource or the hub and its endpoints); empty for `location`. Mistral models are not offered everywhere.')
param modelLocation string = ''

@description('Salt of every resource name (AZURE_RESOURCE_SUFFIX): empty at first; `azd down` sets a new one (hooks/postdown.mjs), so provisioning the environment again gets new names, as the soft-deleted, purge-protected Key Vaults keep theirs for 90 days.')
@maxLength(16)
param resourceSuffix string = ''

@description('Object id of whoever runs azd (AZURE_PRINCIPAL_ID); gets Key Vault Secrets Officer on the app\'s vault to write caller keys. Empty to grant nothing.')
param principalId string = ''

@description('Where the models run: `foundry`, deployments on a Foundry (AI Services) resource reached with Entra ID (no key anywhere); or `serverless`, serverless API endpoints in a Foundry hub project, reached with keys kept in Key Vault.')
@allowed([
  'foundry'
  'serverless'
])
param modelHosting string = 'foundry'

// Default models as Microsoft's pages listed them in September 2026 (the Foundry model retirement schedule and
// "Foundry Models from partners"): Mistral-Large-3, sold by Azure (capacity in thousands of tokens a minute,
// within the subscription's quota; 400,000 tokens and 1,000 requests a minute by default); mistral-small-2503 and
// mistral-medium-2505, partner models, GA (capacity 1; 200,000 tokens and 1,000 requests a minute per
// deployment). Mistral-Large-2411 was retired on 2026-01-30. docs/deploy.md says how to choose others.
@description('The deployments with `modelHosting` = `foundry`. The first is the default model.')
param foundryModels foundryModel[] = [
  {
    alias: 'mistral-large'
    model: 'Mistral-Large-3'
    version: '1'
    // Sold by Azure: Microsoft's OpenAI v1 API serves it ("chat completions with models from other providers").
    api: 'openai-v1'
    capacity: 100
    tokensPerMinute: 100000
    requestsPerMinute: 1000
  }
  {
    alias: 'mistral-small'
    model: 'mistral-small-2503'
    version: '1'
  }
]

@description('The endpoints with `modelHosting` = `serverless`. The first is the default model.')
param serverlessModels serverlessModel[] = [
  {
    alias: 'mistral-medium'
    model: 'mistral-medium-2505'
  }
  {
    alias: 'mistral-small'
    model: 'mistral-small-2503'
  }
]

@description('The Azure AI Model Inference `api-version` the app sends to deployments reached through that API: its GA version, which replaced 2024-05-01-preview (retired in April 2026).')
param modelApiVersion string = '2025-04-01'

@description('Comma-separated browser origins allowed to call, e.g. `https://app.example.com`; empty for none. The app\'s CORS is the one rule (the platform\'s is off); `*` is refused before provisioning (hooks/preprovision.mjs) and by the app.')
param corsAllowedOrigins string = ''

@description('`true` lets browsers send credentials (cookies).')
@allowed([
  'true'
  'false'
])
param corsAllowCredentials string = 'false'

@description('Per-caller and per-deployment quotas: `on` or `off`.')
@allowed([
  'on'
  'off'
])
param quotas string = 'on'

@description('`true` records prompts and completions in telemetry; keep `false` unless you must.')
@allowed([
  'true'
  'false'
])
param telemetryCaptureContent string = 'false'

@description('Further app settings, e.g. `MODEL_FALLBACK` or `HTTP_TOOLS`. The settings this template manages win over these.')
param extraAppSettings stringMap = {}

@description('`on` deploys the Logic Apps sample: a Consumption workflow that summarises a document through the chat jobs route with a caller key it reads from Key Vault, and the app as a custom connector for the designer (docs/logic-apps.md).')
@allowed([
  'on'
  'off'
])
param logicAppsSample string = 'off'

// A new value on every provisioning (newGuid is allowed only here): the sample's key is rotated each time, and
// the postprovision hook puts the new key's hash in CALLER_KEYS. Two GUIDs: 244 random bits.
@secure()
@description('The Logic Apps sample\'s caller key; leave it to its default.')
param logicAppsSampleKey string = '${newGuid()}${newGuid()}'

@description('The chat page\'s API registration in Entra ID (its client id), which hooks/entra-apps.mjs makes before provisioning; empty: the app checks no user tokens (keys only).')
param entraApiClientId string = ''

@description('The region of the chat page\'s Static Web App; empty: the deployment\'s region when Static Web Apps runs there, otherwise westeurope.')
param webLocation string = ''

@description('Node.js version of the function app.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Most instances Flex Consumption scales out to: a ceiling on cost.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

var abbrs = loadJsonContent('abbreviations.json')
// Stable for the subscription, environment and region: provisioning again updates the same resources.
// Without a salt, exactly the token every environment had before the salt existed (uniqueString of an extra
// empty string is another hash), so provisioning an existing environment again keeps its resources.
var resourceToken = toLower(empty(resourceSuffix)
  ? uniqueString(subscription().id, environmentName, location)
  : uniqueString(subscription().id, environmentName, location, resourceSuffix))
var tags = {
  'azd-env-name': environmentName
}
var useFoundry = modelHosting == 'foundry'
var modelRegion = empty(modelLocation) ? location : modelLocation
var modelAliases = map(useFoundry ? foundryModels : serverlessModels, model => (model.alias))

var names = {
  resourceGroup: '${abbrs.resourceGroup}${environmentName}'
  identity: '${abbrs.managedIdentity}api-${resourceToken}'
  logAnalytics: '${abbrs.logAnalyticsWorkspace}${resourceToken}'
  applicationInsights: '${abbrs.applicationInsights}${resourceToken}'
  storage: '${abbrs.storageAccount}${resourceToken}'
  keyVault: '${abbrs.keyVault}${resourceToken}'
  plan: '${abbrs.appServicePlan}${resourceToken}'
  functionApp: '${abbrs.functionApp}api-${resourceToken}'
  foundry: '${abbrs.foundryAccount}${resourceToken}'
  hub: '${abbrs.foundryHub}${resourceToken}'
  project: '${abbrs.foundryHubProject}${resourceToken}'
  hubStorage: '${abbrs.storageAccount}hub${resourceToken}'
  hubKeyVault: '${abbrs.keyVault}hub-${resourceToken}'
  logicAppsSample: '${abbrs.logicApp}summarise-${resourceToken}'
  logicAppsConnector: '${abbrs.customConnector}mistral-chat-${resourceToken}'
  staticWebApp: '${abbrs.staticWebApp}${resourceToken}'
}

// The Flex Consumption package container, the table of the quota counters (QUOTA_TABLE), and the table of
// Idempotency-Keys and the answers kept for them (IDEMPOTENCY_TABLE).
var deploymentContainerName = 'app-package'
var quotaTableName = 'quotas'
var idempotencyTableName = 'idempotency'
// Chat jobs (POST /api/chat/jobs): the queue its queue-triggered function reads (JOB_QUEUE), the table of the
// jobs' state (JOB_TABLE), and the container of requests and results too large for a table row (JOB_CONTAINER).
// After maxDequeueCount failed runs the Functions host moves a message to `<queue>-poison`, made here too.
var jobQueueName = 'chat-jobs'
var jobPoisonQueueName = '${jobQueueName}-poison'
var jobTableName = 'chatjobs'
var jobContainerName = 'chat-jobs'
// The secret CALLER_KEYS refers to. Provisioning never writes it, so it never overwrites the operator's keys.
var callerKeysSecretName = 'caller-keys'
// The Logic Apps sample's caller key (see logicAppsSampleKey), and its name in CALLER_KEYS.
var useLogicAppsSample = logicAppsSample == 'on'
var logicAppsSampleKeySecretName = 'logic-apps-sample-key'
// The function app's default host name, known before the deployment (the app does not ask for a unique one), so
// the sample and the connector need not wait for the app, which waits for the role assignments.
var functionAppHost = '${names.functionApp}.azurewebsites.net'
var corsOrigins = filter(map(split(corsAllowedOrigins, ','), origin => trim(origin)), origin => !empty(origin))
// Static Web Apps runs in a few regions only (its content is served from the edge everywhere).
var staticWebAppRegions = ['centralus', 'eastus2', 'eastasia', 'westeurope', 'westus2']
var staticWebAppLocation = !empty(webLocation) ? webLocation : (contains(staticWebAppRegions, toLower(location)) ? location : 'westeurope')
// Signed-in users of the chat page: tokens for the API registration, in this tenant, with the chat role.
var entraSettings = empty(entraApiClientId)
  ? {}
  : {
      ENTRA_TENANT_ID: tenant().tenantId
      ENTRA_API_AUDIENCE: entraApiClientId
    }

@description('The app reads the settings of alias `mistral-large` as MODEL_MISTRAL_LARGE_*.')
func settingPrefix(alias string) string => 'MODEL_${toUpper(replace(alias, '-', '_'))}_'

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    containers: [
      deploymentContainerName
      jobContainerName
    ]
    queues: [
      jobQueueName
      jobPoisonQueueName
    ]
    tables: [
      quotaTableName
      idempotencyTableName
      jobTableName
    ]
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: names.keyVault
    location: location
    tags: tags
  }
}

module foundry 'modules/foundry.bicep' = if (useFoundry) {
  name: 'foundry'
  scope: rg
  params: {
    name: names.foundry
    location: modelRegion
    tags: tags
    models: foundryModels
  }
}

module hubStorage 'modules/storage.bicep' = if (!useFoundry) {
  name: 'hub-storage'
  scope: rg
  params: {
    name: names.hubStorage
    location: modelRegion
    tags: tags
  }
}

module hubKeyVault 'modules/key-vault.bicep' = if (!useFoundry) {
  name: 'hub-key-vault'
  scope: rg
  params: {
    name: names.hubKeyVault
    location: modelRegion
    tags: tags
  }
}

module hub 'modules/ai-hub.bicep' = if (!useFoundry) {
  name: 'ai-hub'
  scope: rg
  params: {
    hubName: names.hub
    projectName: names.project
    location: modelRegion
    tags: tags
    storageAccountId: hubStorage!.outputs.id
    keyVaultId: hubKeyVault!.outputs.id
  }
}

module serverless 'modules/serverless-endpoints.bicep' = if (!useFoundry) {
  name: 'serverless-endpoints'
  scope: rg
  params: {
    // Names, not outputs: known before the deployment, as What-If needs them.
    projectName: names.project
    location: modelRegion
    tags: tags
    models: serverlessModels
    endpointNameSuffix: resourceToken
    keyVaultName: names.keyVault
  }
  dependsOn: [hub, keyVault]
}

// Per alias: endpoint, model, and how the app authenticates. Foundry: an Entra ID token, nothing secret.
// Serverless: the key, which the app reads from Key Vault itself and reads again after a rotation.
// (Each branch in parentheses: some Bicep parsers bind `!` after the whole conditional otherwise.)
var modelDeployments = useFoundry ? (foundry!.outputs.deployments) : (serverless!.outputs.deployments)
var modelAppSettings = reduce(modelDeployments, {}, (settings, deployment) => union(settings, {
  '${settingPrefix(deployment.alias)}ENDPOINT': deployment.endpoint
  '${settingPrefix(deployment.alias)}MODEL': deployment.model
  '${settingPrefix(deployment.alias)}API': deployment.?api ?? 'model-inference'
  '${settingPrefix(deployment.alias)}API_VERSION': modelApiVersion
  '${settingPrefix(deployment.alias)}AUTH': useFoundry ? 'entra' : 'keyvault'
}, useFoundry ? {
  '${settingPrefix(deployment.alias)}SCOPE': 'https://cognitiveservices.azure.com/.default'
} : {}, contains(deployment, 'keySecretUri') ? {
  '${settingPrefix(deployment.alias)}KEY_SECRET_URI': deployment.?keySecretUri ?? ''
} : {}))

// Each Foundry deployment's budget as Azure limits it, so the app throttles before Azure does: defaults, which
// extraAppSettings may replace (to keep a deployment's share lower, say), unlike the settings managed below.
var modelBudgetSettings = reduce(filter(modelDeployments, deployment => contains(deployment, 'tokensPerMinute')), {}, (settings, deployment) => union(settings, {
  '${settingPrefix(deployment.alias)}TOKENS_PER_MINUTE': string(deployment.?tokensPerMinute ?? 0)
  '${settingPrefix(deployment.alias)}REQUESTS_PER_MINUTE': string(deployment.?requestsPerMinute ?? 0)
}))

// extraAppSettings may add settings, never replace one the template manages (managedAppSettings below), nor
// set a deployment's endpoint, model or credential (MODEL_<ALIAS>_ENDPOINT and the rest, which the template
// owns even where it leaves one out), a setting Flex Consumption refuses, the host's storage connection (by
// identity here), or WEBSITE_AUTH_ENABLED (App Service sets it; set by hand, the app would trust a forged
// principal header). Its budgets (MODEL_<ALIAS>_REQUESTS_PER_MINUTE and _TOKENS_PER_MINUTE) it may set.
var refusedAppSettings = concat(
  [
    'FUNCTIONS_WORKER_RUNTIME'
    'FUNCTIONS_EXTENSION_VERSION'
    'FUNCTIONS_WORKER_PROCESS_COUNT'
    'WEBSITE_NODE_DEFAULT_VERSION'
    'WEBSITE_RUN_FROM_PACKAGE'
    'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING'
    'WEBSITE_CONTENTSHARE'
    'WEBSITE_SKIP_CONTENTSHARE_VALIDATION'
    'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT'
    'WEBSITE_USE_PLACEHOLDER'
    'WEBSITE_AUTH_ENABLED'
    'SCM_DO_BUILD_DURING_DEPLOYMENT'
    'ENABLE_ORYX_BUILD'
  ],
  flatten(map(modelAliases, alias => map(['ENDPOINT', 'MODEL', 'API', 'API_VERSION', 'AUTH', 'SCOPE', 'KEY', 'KEY_SECRET_URI'], name => '${settingPrefix(alias)}${name}')))
)
var extraAppSettingsTaken = filter(
  items(extraAppSettings),
  setting => !contains(refusedAppSettings, toUpper(setting.key)) && !startsWith(setting.key, 'AzureWebJobsStorage') && !contains(managedAppSettings, setting.key)
)
var extraAppSettingsRefused = map(
  filter(items(extraAppSettings), setting => !contains(map(extraAppSettingsTaken, taken => (taken.key)), setting.key)),
  setting => (setting.key)
)

var appSettings = union(modelBudgetSettings, toObject(extraAppSettingsTaken, setting => (setting.key), setting => (setting.value)), managedAppSettings, entraSettings)

var managedAppSettings = union(modelAppSettings, {
  MODEL_DEPLOYMENTS: join(modelAliases, ',')
  // The user-assigned identity, for Key Vault, Entra ID tokens, storage and telemetry.
  AZURE_CLIENT_ID: identity.outputs.clientId
  // Host storage by identity, the Functions convention: no connection string, no key.
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  // Hashes of the callers' keys, in a secret the operator writes (see hooks/postprovision.mjs). Until it
  // exists the reference stays unresolved and the app fails closed: protected routes answer 503
  // caller_keys_unavailable, and readiness names the setting.
  CALLER_KEYS: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.uri}secrets/${callerKeysSecretName})'
  QUOTAS: quotas
  QUOTA_TABLE: quotaTableName
  IDEMPOTENCY_TABLE: idempotencyTableName
  // The job queue, table and container, in the host's storage account: the app derives the queue and blob
  // endpoints from AzureWebJobsStorage__accountName and reaches them with the same identity.
  JOB_QUEUE: jobQueueName
  JOB_TABLE: jobTableName
  JOB_CONTAINER: jobContainerName
  // The chat page's origin, and any others the operator lists.
  CORS_ALLOWED_ORIGINS: join(union([web.outputs.origin], corsOrigins), ',')
  CORS_ALLOW_CREDENTIALS: corsAllowCredentials
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  // Local authentication is off: telemetry goes with this identity's Entra ID token.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.outputs.clientId}'
  TELEMETRY_CAPTURE_CONTENT: telemetryCaptureContent
  // Read by glibc, not the app: two malloc arenas instead of one per thread. With the default, memory
  // freed after a burst of streams stays resident (measured by `npm run bench -- --faults`).
  MALLOC_ARENA_MAX: '2'
})

module web 'modules/static-web-app.bicep' = {
  name: 'web'
  scope: rg
  params: {
    name: names.staticWebApp
    location: staticWebAppLocation
    tags: tags
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityId: identity.outputs.id
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    appSettings: appSettings
  }
  // The app's roles before the app: its first start reads Key Vault references and host storage as its
  // identity, and a deployment right after provisioning must not find it without them.
  dependsOn: [roleAssignments]
}

module logicAppsSampleWorkflow 'modules/logic-apps-sample.bicep' = if (useLogicAppsSample) {
  name: 'logic-apps-sample'
  scope: rg
  params: {
    name: names.logicAppsSample
    location: location
    tags: tags
    apiBaseUrl: 'https://${functionAppHost}/api'
    keyVaultName: names.keyVault
    keySecretName: logicAppsSampleKeySecretName
    callerKey: logicAppsSampleKey
  }
  dependsOn: [keyVault]
}

module logicAppsConnector 'modules/logic-apps-connector.bicep' = if (useLogicAppsSample) {
  name: 'logic-apps-connector'
  scope: rg
  params: {
    name: names.logicAppsConnector
    location: location
    tags: tags
    host: functionAppHost
  }
}

module roleAssignments 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    // A runtime value What-If cannot predict, kept because the assignments of every environment provisioned so
    // far are named from it: other names would make ARM refuse them (RoleAssignmentExists).
    #disable-next-line what-if-short-circuiting
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    // Names, not outputs: known before the deployment, as What-If needs them.
    storageAccountName: names.storage
    keyVaultName: names.keyVault
    applicationInsightsName: names.applicationInsights
    useFoundry: useFoundry
    foundryAccountName: names.foundry
    useLogicAppsSample: useLogicAppsSample
    // The sample workflow's identity: a runtime value, like the app's.
    #disable-next-line what-if-short-circuiting
    logicAppsSamplePrincipalId: useLogicAppsSample ? logicAppsSampleWorkflow!.outputs.principalId : ''
    logicAppsSampleKeySecretName: logicAppsSampleKeySecretName
  }
  dependsOn: [storage, keyVault, monitoring, foundry]
}

// azd writes these to the environment (.azure/<env>/.env). URLs and names only: no key, no secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_URL string = functionApp.outputs.url
output API_BASE_URL string = '${functionApp.outputs.url}/api'
output MODEL_HOSTING string = modelHosting
output MODEL_ENDPOINTS modelEndpoint[] = map(modelDeployments, deployment => {
  alias: deployment.alias
  endpoint: deployment.endpoint
})
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output CALLER_KEYS_SECRET_NAME string = callerKeysSecretName
@description('The Logic Apps sample workflow and the connector; empty when `logicAppsSample` is `off`.')
output LOGIC_APPS_SAMPLE_WORKFLOW string = useLogicAppsSample ? names.logicAppsSample : ''
output LOGIC_APPS_CONNECTOR string = useLogicAppsSample ? names.logicAppsConnector : ''
@description('The secret with the sample workflow\'s caller key (the postprovision hook puts its hash in CALLER_KEYS); empty when the sample is off.')
output LOGIC_APPS_SAMPLE_KEY_SECRET_NAME string = useLogicAppsSample ? logicAppsSampleKeySecretName : ''
output AZURE_KEY_VAULT_ENDPOINT string = keyVault.outputs.uri
output WEB_URL string = web.outputs.origin
output ENTRA_AUTHORITY string = '${environment().authentication.loginEndpoint}${tenant().tenantId}'

@description('extraAppSettings the template refused (managed by it, or refused by Flex Consumption): names only.')
output REFUSED_EXTRA_APP_SETTINGS string[] = extraAppSettingsRefused
