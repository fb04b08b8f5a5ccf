// The shapes of the model parameters, shared by main.bicep and the model modules.

@export()
@description('A Mistral deployment on a Foundry (AI Services) resource, reached with Entra ID.')
type foundryModel = {
  @description('The name callers send as `model` (lowercase letters, digits and single hyphens); it is also the deployment name.')
  @minLength(1)
  @maxLength(40)
  alias: string

  @description('The model in the Foundry catalog, e.g. `Mistral-Large-3`.')
  model: string

  @description('The model version, e.g. `1`.')
  version: string

  @description('The deployment type; `GlobalStandard` when omitted.')
  sku: string?

  @description('Capacity in thousands of tokens per minute; 100 when omitted. The app budgets the same.')
  @minValue(1)
  capacity: int?
}

@export()
@description('A Mistral model as a serverless API endpoint in a Foundry hub project, reached with a key kept in Key Vault.')
type serverlessModel = {
  @description('The name callers send as `model` (lowercase letters, digits and single hyphens). At most 18 characters: with a hyphen and the 13-character resource token it names the endpoint, which has at most 32.')
  @minLength(1)
  @maxLength(18)
  alias: string

  @description('The model in the `azureml-mistral` registry, e.g. `Mistral-Large-2411`; the endpoint serves `azureml://registries/azureml-mistral/models/<model>`.')
  model: string
}

@export()
@description('Tags, or app settings: names to string values.')
type stringMap = {
  *: string
}

@export()
@description('A model deployment as the app is given it: where it is, the `model` it names, and its key (when it has one) as a Key Vault secret URI.')
type modelDeployment = {
  alias: string
  endpoint: string
  model: string
  @description('The deployment\'s tokens per minute, when Azure sets it for the deployment.')
  tokensPerMinute: int?
  @description('Where its key is (never the key); serverless endpoints only.')
  keySecretUri: string?
}

@export()
@description('An alias and its endpoint, as azd records them.')
type modelEndpoint = {
  alias: string
  endpoint: string
}
