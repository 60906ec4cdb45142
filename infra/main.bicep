// The help desk API on Azure: a Flex Consumption function app reaching Cosmos DB, Service
// Bus, Storage (the host's account, and the attachments'), Communication Services (requester
// emails), Key Vault and Application Insights with one user-assigned managed identity, local
// (key) auth off everywhere. Deployed into a
// resource group by `azd up` (README.md, "Deploy to Azure").

targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds every resource name and tags every resource.')
param environmentName string

@minLength(1)
@description('Region of every resource; it must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Object id of the developer running azd, given data access to Cosmos DB and the queues so the local host can use them. Empty: nobody but the app.')
param principalId string = ''

// ---- API authentication (Entra ID app registration, see README.md) ----

@description('AUTH_ISSUER: token issuer the API trusts. Empty: https://login.microsoftonline.com/<this tenant>/v2.0.')
param authIssuer string = ''

@minLength(1)
@description('AUTH_AUDIENCE: the API app registration\'s application (client) id, the `aud` of v2.0 access tokens.')
param authAudience string

@description('AUTH_JWKS_URI: the issuer\'s signing keys. Empty: https://login.microsoftonline.com/<this tenant>/discovery/v2.0/keys.')
param authJwksUri string = ''

@description('CORS_ALLOWED_ORIGINS: comma-separated origins allowed to call the API from a browser, e.g. https://helpdesk.example.com. Empty: none.')
param corsAllowedOrigins string = ''

// ---- Escalations ----

@description('TICKET_URL_TEMPLATE: link to a ticket in alerts, {id} and {number} replaced, e.g. https://helpdesk.example.com/tickets/{number}. Empty: the API\'s own ticket URL.')
param ticketUrlTemplate string = ''

@description('ESCALATION_ACK_TIMEOUT_SECONDS: seconds an escalation may stay unacknowledged before it is paged again.')
@minValue(60)
param escalationAckTimeoutSeconds int = 900

@description('ESCALATION_MAX_REPAGES: how many times an unacknowledged escalation is paged again.')
@minValue(0)
@maxValue(20)
param escalationMaxRepages int = 3

@secure()
@description('ALERT_WEBHOOK_URL: generic webhook receiving escalation alerts, stored in Key Vault. Empty: channel off.')
param alertWebhookUrl string = ''

@secure()
@description('ALERT_WEBHOOK_SECRET: secret signing the generic webhook\'s requests, stored in Key Vault; required (16+ characters) when alertWebhookUrl is set.')
param alertWebhookSecret string = ''

@secure()
@description('TEAMS_WEBHOOK_URL: Microsoft Teams incoming webhook, stored in Key Vault. Empty: channel off.')
param teamsWebhookUrl string = ''

@secure()
@description('SLACK_WEBHOOK_URL: Slack incoming webhook, stored in Key Vault. Empty: channel off.')
param slackWebhookUrl string = ''

@secure()
@description('PAGERDUTY_ROUTING_KEY: PagerDuty Events API v2 routing key, stored in Key Vault. Empty: channel off.')
param pagerDutyRoutingKey string = ''

@description('Email told when an escalation (an alert that reached nobody), an SLA timer, a ticket command or a notification (a requester email or webhook event) is dead-lettered. Empty: portal only.')
param alertEmail string = ''

// ---- Requester emails ----

@description('Where Communication Services keeps the requester emails\' data at rest (its geography, not a region): e.g. Europe, United States, UK, Australia.')
@minLength(1)
param emailDataLocation string = 'Europe'

// ---- Capacity ----

@description('Memory of each function app instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound of function app instances; Flex Consumption allows 40 to 1000.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Instances kept warm for the HTTP API, billed while idle; 0 scales from zero with cold starts.')
@minValue(0)
param alwaysReadyHttpInstances int = 1

@description('Cosmos DB capacity: serverless (pay per request) or autoscale (provisioned, shared by the database).')
@allowed([
  'serverless'
  'autoscale'
])
param cosmosThroughputMode string = 'serverless'

@description('Highest RU/s of the database when cosmosThroughputMode is autoscale.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('COSMOS_DATABASE_NAME: the Cosmos DB database.')
param cosmosDatabaseName string = 'helpdesk'

@description('Defender for Storage scans at most this many GB of attachments a month (-1: no cap), billed per GB; past it, new uploads stay unscanned and are not served.')
@minValue(-1)
param attachmentsScanCapGBPerMonth int = 1000

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-${resourceToken}'
var tenantAuthority = '${environment().authentication.loginEndpoint}${tenant().tenantId}'
var effectiveAuthIssuer = empty(authIssuer) ? '${tenantAuthority}/v2.0' : authIssuer
var effectiveAuthJwksUri = empty(authJwksUri) ? '${tenantAuthority}/discovery/v2.0/keys' : authJwksUri
var corsOrigins = filter(map(split(corsAllowedOrigins, ','), origin => trim(origin)), origin => !empty(origin))

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${take(functionAppName, 32)}'
    appPrincipalId: identity.outputs.principalId
  }
}

// Attachments: their own account, with CORS for the same origins as the API, malware scanning
// and the lifecycle rule for uploads never attached.
module attachments 'modules/attachments.bicep' = {
  name: 'attachments'
  params: {
    name: 'stfiles${resourceToken}'
    location: location
    tags: tags
    corsAllowedOrigins: corsOrigins
    appPrincipalId: identity.outputs.principalId
    malwareScanningCapGBPerMonth: attachmentsScanCapGBPerMonth
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    accountName: 'cosmos-${resourceToken}'
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    throughputMode: cosmosThroughputMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    namespaceName: 'sb-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
  }
}

// Requester emails: Communication Services with an Azure-managed email domain linked to it.
module email 'modules/email.bicep' = {
  name: 'email'
  params: {
    communicationServiceName: 'acs-${resourceToken}'
    emailServiceName: 'ecs-${resourceToken}'
    dataLocation: emailDataLocation
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    alertWebhookUrl: alertWebhookUrl
    alertWebhookSecret: alertWebhookSecret
    teamsWebhookUrl: teamsWebhookUrl
    slackWebhookUrl: slackWebhookUrl
    pagerDutyRoutingKey: pagerDutyRoutingKey
  }
}

// Depends on every other module through their outputs, so the identity's role assignments
// exist before the app first starts and reaches for its storage, database, queues, attachments
// and email.
module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    escalationQueueName: serviceBus.outputs.escalationQueueName
    timerQueueName: serviceBus.outputs.timerQueueName
    ticketCommandsQueueName: serviceBus.outputs.ticketCommandsQueueName
    notificationsQueueName: serviceBus.outputs.notificationsQueueName
    emailEndpoint: email.outputs.endpoint
    emailSender: email.outputs.sender
    attachmentsAccountUrl: attachments.outputs.accountUrl
    attachmentsContainerName: attachments.outputs.containerName
    authIssuer: effectiveAuthIssuer
    authAudience: authAudience
    authJwksUri: effectiveAuthJwksUri
    corsAllowedOrigins: corsOrigins
    ticketUrlTemplate: ticketUrlTemplate
    escalationAckTimeoutSeconds: escalationAckTimeoutSeconds
    escalationMaxRepages: escalationMaxRepages
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    alertWebhookUrlSecretUri: keyVault.outputs.alertWebhookUrlSecretUri
    alertWebhookSecretSecretUri: keyVault.outputs.alertWebhookSecretSecretUri
    teamsWebhookUrlSecretUri: keyVault.outputs.teamsWebhookUrlSecretUri
    slackWebhookUrlSecretUri: keyVault.outputs.slackWebhookUrlSecretUri
    pagerDutyRoutingKeySecretUri: keyVault.outputs.pagerDutyRoutingKeySecretUri
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    actionGroupName: 'ag-${resourceToken}'
    escalationAlertName: 'alert-deadlettered-escalations-${resourceToken}'
    timerAlertName: 'alert-deadlettered-timers-${resourceToken}'
    ticketCommandAlertName: 'alert-deadlettered-commands-${resourceToken}'
    notificationAlertName: 'alert-deadlettered-notifications-${resourceToken}'
    tags: tags
    serviceBusNamespaceId: serviceBus.outputs.namespaceId
    escalationQueueName: serviceBus.outputs.escalationQueueName
    timerQueueName: serviceBus.outputs.timerQueueName
    ticketCommandsQueueName: serviceBus.outputs.ticketCommandsQueueName
    notificationsQueueName: serviceBus.outputs.notificationsQueueName
    alertEmail: alertEmail
  }
}

// azd stores these in the environment (.azure/<env>/.env); none is a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = 'https://${functionApp.outputs.defaultHostName}/api'
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE_NAME string = cosmos.outputs.databaseName
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output ESCALATION_QUEUE_NAME string = serviceBus.outputs.escalationQueueName
output TIMER_QUEUE_NAME string = serviceBus.outputs.timerQueueName
output TICKET_COMMANDS_QUEUE_NAME string = serviceBus.outputs.ticketCommandsQueueName
output NOTIFICATIONS_QUEUE_NAME string = serviceBus.outputs.notificationsQueueName
output EMAIL_ENDPOINT string = email.outputs.endpoint
output EMAIL_SENDER string = email.outputs.sender
output ATTACHMENTS_ACCOUNT_URL string = attachments.outputs.accountUrl
output ATTACHMENTS_CONTAINER string = attachments.outputs.containerName
output AUTH_ISSUER string = effectiveAuthIssuer
output AUTH_AUDIENCE string = authAudience
output AUTH_JWKS_URI string = effectiveAuthJwksUri
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
