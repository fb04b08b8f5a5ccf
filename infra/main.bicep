// Deployment of the model endpoint and the function app with `azd up`.
// This is a placeholder: the real templates (resource group, Mistral endpoint, Flex Consumption
// function app, Key Vault, storage, Application Insights, role assignments) arrive with the deploy work.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to name resources.')
param environmentName string

@minLength(1)
@description('Primary location for all resources.')
param location string

output AZURE_LOCATION string = location
output AZURE_ENV_NAME string = environmentName
