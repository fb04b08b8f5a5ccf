metadata description = 'The chat page on Static Web Apps (free plan), deployed by azd as the service web.'
import { stringMap } from '../types.bicep'

// The chat page (web/): a Static Web App on the free plan, which azd deploys as the service `web` from the
// page built on the deploying machine (hooks/web-prepackage.mjs). The page calls the function app directly
// with a user's access token; the site's linked-backend and built-in sign-in features are not used
// (docs/web.md says why).

@description('The site\'s name.')
param name string

@description('One of the regions Static Web Apps runs in; the page itself is served from the edge everywhere.')
param location string

param tags stringMap = {}

resource site 'Microsoft.Web/staticSites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'web' })
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    // staticwebapp.config.json, deployed with the page, sets its headers (the Content-Security-Policy).
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

@description('The page\'s origin, as browsers send it: https://<name>.azurestaticapps.net.')
output origin string = 'https://${site.properties.defaultHostname}'
output name string = site.name
