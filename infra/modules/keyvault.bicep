// Key Vault (RBAC authorization) for the ops alert channels' secrets. The function app never
// sees a secret in its configuration: its app settings hold Key Vault references that the
// platform resolves with the app's identity (Key Vault Secrets User).
//
// A secret is created only for a channel whose parameter is non-empty; the module outputs an
// empty URI for the others, and functionapp.bicep then leaves that channel's setting out, so
// the code sees an unconfigured channel as absent rather than as a reference to nothing.

@description('Name of the Key Vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Region of the vault.')
param location string

@description('Tags applied to the vault.')
param tags object = {}

@description('Principal id of the function app identity, allowed to read secrets.')
param appPrincipalId string

@secure()
@description('Generic webhook that receives escalation alerts. Empty: channel off.')
param alertWebhookUrl string = ''

@secure()
@description('Shared secret that signs the generic webhook\'s requests; required when the webhook URL is set.')
param alertWebhookSecret string = ''

@secure()
@description('Microsoft Teams incoming webhook URL. Empty: channel off.')
param teamsWebhookUrl string = ''

@secure()
@description('Slack incoming webhook URL. Empty: channel off.')
param slackWebhookUrl string = ''

@secure()
@description('PagerDuty Events API v2 routing key. Empty: channel off.')
param pagerDutyRoutingKey string = ''

var secretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC instead of access policies: one permission model for every resource here.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource alertWebhookUrlSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(alertWebhookUrl)) {
  parent: vault
  name: 'alert-webhook-url'
  properties: {
    value: alertWebhookUrl
  }
}

resource alertWebhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(alertWebhookSecret)) {
  parent: vault
  name: 'alert-webhook-secret'
  properties: {
    value: alertWebhookSecret
  }
}

resource teamsWebhookUrlSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(teamsWebhookUrl)) {
  parent: vault
  name: 'teams-webhook-url'
  properties: {
    value: teamsWebhookUrl
  }
}

resource slackWebhookUrlSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(slackWebhookUrl)) {
  parent: vault
  name: 'slack-webhook-url'
  properties: {
    value: slackWebhookUrl
  }
}

resource pagerDutyRoutingKeySecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(pagerDutyRoutingKey)) {
  parent: vault
  name: 'pagerduty-routing-key'
  properties: {
    value: pagerDutyRoutingKey
  }
}

resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, secretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
// Versionless secret URIs (the app follows secret rotation); empty for channels left off.
// Only `empty()` looks at the secure parameters here: their values never leave the vault.
output alertWebhookUrlSecretUri string = empty(alertWebhookUrl) ? '' : alertWebhookUrlSecret.properties.secretUri
output alertWebhookSecretSecretUri string = empty(alertWebhookSecret) ? '' : alertWebhookSecretSecret.properties.secretUri
output teamsWebhookUrlSecretUri string = empty(teamsWebhookUrl) ? '' : teamsWebhookUrlSecret.properties.secretUri
output slackWebhookUrlSecretUri string = empty(slackWebhookUrl) ? '' : slackWebhookUrlSecret.properties.secretUri
output pagerDutyRoutingKeySecretUri string = empty(pagerDutyRoutingKey) ? '' : pagerDutyRoutingKeySecret.properties.secretUri
