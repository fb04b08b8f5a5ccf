metadata description = 'Log Analytics and Application Insights, both refusing keys: telemetry is accepted only with an Entra ID token.'
import { stringMap } from '../types.bicep'

param logAnalyticsName string
param applicationInsightsName string
param location string
param tags stringMap = {}

@minValue(30)
@maxValue(730)
@description('Days Log Analytics keeps the data.')
param retentionInDays int = 30

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      // Queries and ingestion with Entra ID only, no shared workspace keys.
      disableLocalAuth: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    IngestionMode: 'LogAnalytics'
    // The instrumentation key alone cannot send telemetry: ingestion needs a token of an identity with
    // Monitoring Metrics Publisher (the app's, see role-assignments.bicep).
    DisableLocalAuth: true
  }
}

output applicationInsightsName string = applicationInsights.name
output applicationInsightsId string = applicationInsights.id
@description('Not a secret: with local authentication disabled it only says where to send, not who may.')
output connectionString string = applicationInsights.properties.ConnectionString
output logAnalyticsId string = logAnalytics.id
