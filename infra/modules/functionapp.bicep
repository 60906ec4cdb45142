// The Flex Consumption plan and the function app. Every connection is identity-based
// (`<connection>__credential` = managedidentity with the user-assigned identity's client id),
// and the alert channels' secrets are Key Vault references: no app setting holds a key.
// Names of the settings are the ones the code reads (shared/app/config.ts and the
// function registrations); test/infra checks them.

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app (the app also gets azd-service-name).')
param tags object = {}

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity; identity-based connections and DefaultAzureCredential pick it with this.')
param identityClientId string

@description('Blob endpoint of the host storage account (https://<account>.blob.core.windows.net/).')
param storageBlobEndpoint string

@description('Table endpoint of the host storage account (the host\'s diagnostic events).')
param storageTableEndpoint string

@description('Blob container Flex Consumption deploys the app package from.')
param deploymentContainerName string

@description('Application Insights connection string (identifies the component; not a secret).')
param applicationInsightsConnectionString string

@description('Cosmos DB account endpoint (https://<account>.documents.azure.com:443/).')
param cosmosEndpoint string

@description('Cosmos DB database name.')
param cosmosDatabaseName string

@description('Fully qualified Service Bus namespace host (<namespace>.servicebus.windows.net).')
param serviceBusNamespace string

@description('Name of the escalations queue.')
param escalationQueueName string

@description('Name of the queue of the SLA clocks\' timers (scheduled warnings and breaches).')
param timerQueueName string

@description('Name of the queue of the commands one ticket\'s change fans out to other tickets.')
param ticketCommandsQueueName string

@description('Name of the queue of requester emails and the apps\' webhook events.')
param notificationsQueueName string

@description('Communication Services endpoint the requester emails are sent through (https://<name>.<geography>.communication.azure.com).')
param emailEndpoint string

@description('Address the requester emails come from, on a domain linked to that resource.')
param emailSender string

@description('Blob endpoint of the attachments\' storage account, without a trailing slash (https://<account>.blob.core.windows.net).')
param attachmentsAccountUrl string

@description('Blob container of the attachments.')
param attachmentsContainerName string

@description('Token issuer the API trusts (`iss`).')
param authIssuer string

@description('Audience the API expects (`aud`).')
param authAudience string

@description('JWKS URL of the issuer.')
param authJwksUri string

@description('Origins allowed to call the API from a browser. Empty: none.')
param corsAllowedOrigins array = []

@description('Link to a ticket in alerts; {id} and {number} are replaced. Empty: the API\'s own ticket URL.')
param ticketUrlTemplate string = ''

@description('Seconds an escalation may stay unacknowledged before it is paged again.')
@minValue(1)
param escalationAckTimeoutSeconds int

@description('How many times an unacknowledged escalation is paged again.')
@minValue(0)
param escalationMaxRepages int

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Upper bound of instances the app scales out to; Flex Consumption allows 40 and up.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Instances kept warm for the HTTP functions (0: scale from zero, with cold starts).')
@minValue(0)
param alwaysReadyHttpInstances int

@description('Key Vault secret URI of the generic alert webhook URL. Empty: channel off.')
param alertWebhookUrlSecretUri string = ''

@description('Key Vault secret URI of the generic alert webhook signing secret. Empty: none.')
param alertWebhookSecretSecretUri string = ''

@description('Key Vault secret URI of the Teams webhook URL. Empty: channel off.')
param teamsWebhookUrlSecretUri string = ''

@description('Key Vault secret URI of the Slack webhook URL. Empty: channel off.')
param slackWebhookUrlSecretUri string = ''

@description('Key Vault secret URI of the PagerDuty routing key. Empty: channel off.')
param pagerDutyRoutingKeySecretUri string = ''

// Identity-based connections: each binding's `connection` name is a prefix, and the host
// builds the client from <prefix>__<property> settings.
var connectionSettings = [
  // Host storage (AzureWebJobsStorage): blobs for leases, keys and timer locks, tables for
  // diagnostic events. No queues: only blob and queue triggers use them, and this app has none.
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storageBlobEndpoint }
  { name: 'AzureWebJobsStorage__tableServiceUri', value: storageTableEndpoint }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  // Cosmos DB change-feed trigger (the outbox dispatcher).
  { name: 'CosmosDBConnection__accountEndpoint', value: cosmosEndpoint }
  { name: 'CosmosDBConnection__credential', value: 'managedidentity' }
  { name: 'CosmosDBConnection__clientId', value: identityClientId }
  // Service Bus triggers (the escalation handler, the SLA timers', the ticket commands' and the notifications').
  { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusNamespace }
  { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
  { name: 'ServiceBusConnection__clientId', value: identityClientId }
]

// Without a web front end to link to, alerts link to the API's own ticket URL. The host name
// is the app's default one: a site cannot read its own properties while being created.
var effectiveTicketUrlTemplate = empty(ticketUrlTemplate) ? 'https://${name}.azurewebsites.net/api/tickets/{id}' : ticketUrlTemplate

// Settings the code reads itself (SDK clients built with DefaultAzureCredential, which picks
// the user-assigned identity from AZURE_CLIENT_ID).
var appSettings = [
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  // The package is a bundle with source maps (npm run package): with this flag, stack traces in
  // Application Insights name the TypeScript sources and lines, not the bundle's.
  { name: 'NODE_OPTIONS', value: '--enable-source-maps' }
  { name: 'COSMOS_ENDPOINT', value: cosmosEndpoint }
  { name: 'COSMOS_DATABASE_NAME', value: cosmosDatabaseName }
  { name: 'SERVICE_BUS_NAMESPACE', value: serviceBusNamespace }
  { name: 'ESCALATION_QUEUE_NAME', value: escalationQueueName }
  { name: 'TIMER_QUEUE_NAME', value: timerQueueName }
  { name: 'TICKET_COMMANDS_QUEUE_NAME', value: ticketCommandsQueueName }
  { name: 'NOTIFICATIONS_QUEUE_NAME', value: notificationsQueueName }
  // Requester emails: sent with the identity (AZURE_CLIENT_ID), never with an access key, so no
  // EMAIL_CONNECTION_STRING (the code refuses one in Azure).
  { name: 'EMAIL_ENDPOINT', value: emailEndpoint }
  { name: 'EMAIL_SENDER', value: emailSender }
  // Attachments: the code signs its SAS with the identity's user delegation key (no account key).
  { name: 'ATTACHMENTS_ACCOUNT_URL', value: attachmentsAccountUrl }
  { name: 'ATTACHMENTS_CONTAINER', value: attachmentsContainerName }
  { name: 'ESCALATION_ACK_TIMEOUT_SECONDS', value: string(escalationAckTimeoutSeconds) }
  { name: 'ESCALATION_MAX_REPAGES', value: string(escalationMaxRepages) }
  { name: 'TICKET_URL_TEMPLATE', value: effectiveTicketUrlTemplate }
  { name: 'AUTH_ISSUER', value: authIssuer }
  { name: 'AUTH_AUDIENCE', value: authAudience }
  { name: 'AUTH_JWKS_URI', value: authJwksUri }
  // The code answers CORS (platform CORS is left off: it cannot expose ETag or Location to a browser).
  { name: 'CORS_ALLOWED_ORIGINS', value: join(corsAllowedOrigins, ',') }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
  // Local auth is off on Application Insights: telemetry is sent with the identity's token.
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
]

// Alert channels appear only when configured, so the code never sees an empty value or a
// Key Vault reference to a secret that does not exist.
var alertWebhookUrlSetting = empty(alertWebhookUrlSecretUri) ? [] : [{ name: 'ALERT_WEBHOOK_URL', value: '@Microsoft.KeyVault(SecretUri=${alertWebhookUrlSecretUri})' }]
var alertWebhookSecretSetting = empty(alertWebhookSecretSecretUri) ? [] : [{ name: 'ALERT_WEBHOOK_SECRET', value: '@Microsoft.KeyVault(SecretUri=${alertWebhookSecretSecretUri})' }]
var teamsWebhookUrlSetting = empty(teamsWebhookUrlSecretUri) ? [] : [{ name: 'TEAMS_WEBHOOK_URL', value: '@Microsoft.KeyVault(SecretUri=${teamsWebhookUrlSecretUri})' }]
var slackWebhookUrlSetting = empty(slackWebhookUrlSecretUri) ? [] : [{ name: 'SLACK_WEBHOOK_URL', value: '@Microsoft.KeyVault(SecretUri=${slackWebhookUrlSecretUri})' }]
var pagerDutyRoutingKeySetting = empty(pagerDutyRoutingKeySecretUri) ? [] : [{ name: 'PAGERDUTY_ROUTING_KEY', value: '@Microsoft.KeyVault(SecretUri=${pagerDutyRoutingKeySecretUri})' }]
var alertChannelSettings = concat(alertWebhookUrlSetting, alertWebhookSecretSetting, teamsWebhookUrlSetting, slackWebhookUrlSetting, pagerDutyRoutingKeySetting)

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    // Linux: Flex Consumption runs on Linux only.
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  // azd finds the app to deploy `services.api` to by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity, not a system one.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      // Platform CORS off, and explicitly so (a redeploy keeps what it leaves out): the
      // code answers CORS, since the platform's cannot expose ETag or Location.
      cors: {
        allowedOrigins: []
      }
      appSettings: concat(connectionSettings, appSettings, alertChannelSettings)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        // `http` is the group of every HTTP-triggered function.
        alwaysReady: alwaysReadyHttpInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ] : []
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// No publishing with user names and passwords: azd deploys with Entra ID. Flex Consumption
// has no FTP at all (neither ftpsState nor an `ftp` policy is supported), only this one.
resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
