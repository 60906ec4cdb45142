// Requester emails (issue "Tell the requester"): an Email Communication Service with its
// Azure-managed domain (<guid>.azurecomm.net, verified by Azure, nothing to put in DNS), linked
// to a Communication Services resource the code sends through with `@azure/communication-email`
// (EmailClient(EMAIL_ENDPOINT, the app's managed identity)). Local (access key) auth is off on the
// Communication Services resource: no key exists for a connection string to carry, and the code
// refuses EMAIL_CONNECTION_STRING in Azure anyway. test/infra checks the domain is linked, the
// data locations agree, local auth is off and the app's identity may send (infra/verify/email.ts).

@description('Name of the Communication Services resource (the EMAIL_ENDPOINT host).')
param communicationServiceName string

@description('Name of the Email Communication Service.')
param emailServiceName string

@description('Where Communication Services keeps the emails\' data at rest, e.g. Europe, United States, UK. Both resources take the same one: a domain can only be linked within its geography.')
param dataLocation string

@description('Tags applied to every resource.')
param tags object = {}

@description('Principal id of the function app identity, allowed to send.')
param appPrincipalId string

resource emailService 'Microsoft.Communication/emailServices@2025-09-01' = {
  name: emailServiceName
  // Communication Services resources are global; dataLocation says where their data stays.
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

// Azure-managed: sends from DoNotReply@<guid>.azurecomm.net at once, with nothing to verify, but
// under low sending quotas (Microsoft meant such domains for trying the service out). A custom
// domain (domainManagement: 'CustomerManaged') needs its DNS records verified before it can be
// linked: swap one in here when the help desk has one and its volume outgrows the quotas.
resource domain 'Microsoft.Communication/emailServices/domains@2025-09-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    // No tracking pixel or rewritten links in emails to requesters.
    userEngagementTracking: 'Disabled'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-09-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    // The sender address must be on a linked domain, or every send is refused.
    linkedDomains: [
      domain.id
    ]
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

// Sending an email with an Entra ID token takes these control-plane actions on the Communication
// Services resource (Microsoft's "Use a custom role to limit permissions" for email); there is no
// email data action. The built-in Communication and Email Service Owner would do as well, but also
// deletes the resources, lists and regenerates their keys and manages their domains: this role
// lets the app send and nothing more. Custom role names are unique in the tenant: this one names
// the resource.
var resourceGroupId = resourceGroup().id

resource emailSender 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroupId, communicationServiceName, 'email-sender')
  properties: {
    roleName: 'Help desk email sender (${communicationServiceName})'
    description: 'Sends the help desk\'s requester emails through Azure Communication Services with an Entra ID token.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroupId
    ]
  }
}

// On the Communication Services resource only, for the app's identity (AZURE_CLIENT_ID). A
// developer who ran azd holds Owner or Contributor here, which already allow sending.
resource appEmailSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, appPrincipalId, 'email-sender')
  scope: communicationService
  properties: {
    roleDefinitionId: emailSender.id
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output communicationServiceName string = communicationService.name
output emailServiceName string = emailService.name
// EMAIL_ENDPOINT: https://<name>.<geography>.communication.azure.com
output endpoint string = 'https://${communicationService.properties.hostName}'
// EMAIL_SENDER: the address every Azure-managed domain comes with.
output sender string = 'DoNotReply@${domain.properties.mailFromSenderDomain}'
