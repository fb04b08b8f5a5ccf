metadata description = 'The app as a Logic Apps custom connector, from the OpenAPI document the app serves, so its operations appear in the designer.'
import { stringMap } from '../types.bicep'

param name string
param location string
param tags stringMap = {}

@description('The function app\'s host name, e.g. func-api-abc.azurewebsites.net')
param host string

resource connector 'Microsoft.Web/customApis@2016-06-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    displayName: 'Mistral chat'
    description: 'Mistral chat models behind this deployment\'s function app: Ask, chat completions, and chat jobs for long answers.'
    apiType: 'Rest'
    brandColor: '#FA520F'
    backendService: {
      serviceUrl: 'https://${host}/api'
    }
    // The document GET /api/openapi.json serves (infra/logic-apps/connector.openapi.json is a copy the tests
    // keep identical), pointed at this deployment.
    swagger: union(loadJsonContent('../logic-apps/connector.openapi.json'), {
      host: host
      basePath: '/api'
      schemes: [
        'https'
      ]
    })
    // A connection asks for one caller key (the document's api_key security definition, sent as the api-key
    // header), kept by Azure in the connection and never shown again.
    connectionParameters: {
      api_key: {
        type: 'securestring'
      }
    }
  }
}

output name string = connector.name
