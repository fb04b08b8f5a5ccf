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

  @description('The API the app reaches it through: `openai-v1` (Foundry\'s OpenAI v1 API, `.../openai/v1`), which Microsoft documents for models sold by Azure such as `Mistral-Large-3`; or `model-inference` (the Azure AI Model Inference API, `.../models`), which every Foundry model takes, partner models such as `mistral-small-2503` included. `model-inference` when omitted.')
  api: modelApi?

  @description('The deployment type; `GlobalStandard` when omitted.')
  sku: string?

  @description('The deployment\'s capacity; 1 when omitted, which is what models from partners (sold through Azure Marketplace, e.g. `mistral-small-2503`) take. Models sold by Azure (e.g. `Mistral-Large-3`) take thousands of tokens per minute, within the subscription\'s quota.')
  @minValue(1)
  capacity: int?

  @description('The tokens per minute Azure allows the deployment, as documented for its kind of model; the app budgets the same (`MODEL_<ALIAS>_TOKENS_PER_MINUTE`). 200,000 when omitted, the documented limit of a partner model\'s deployment.')
  @minValue(1)
  tokensPerMinute: int?

  @description('The requests per minute Azure allows the deployment; the app budgets the same. 1,000 when omitted, as documented.')
  @minValue(1)
  requestsPerMinute: int?
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
@description('The model APIs the app speaks (MODEL_<ALIAS>_API).')
type modelApi = 'model-inference' | 'openai-v1'

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
  @description('The API it is reached through; `model-inference` when omitted.')
  api: modelApi?
  @description('The deployment\'s tokens and requests per minute, when Azure sets them for the deployment.')
  tokensPerMinute: int?
  requestsPerMinute: int?
  @description('Where its key is (never the key); serverless endpoints only.')
  keySecretUri: string?
}

@export()
@description('An alias and its endpoint, as azd records them.')
type modelEndpoint = {
  alias: string
  endpoint: string
}
