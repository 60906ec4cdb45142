// Service Bus namespace and its queues (DESIGN.md section 6): `escalations` (ops alerts),
// `ticket-timers` (the SLA clocks' warnings and breaches, each a message scheduled for its
// instant), `ticket-commands` (what one ticket's change fans out to other tickets: an
// incident's broadcast and cascading status move to each linked child, a child's link told to
// its parent) and `notifications` (requester emails and the apps' webhook events). The dispatcher publishes each outbox entry with messageId = the entry id, so
// duplicate detection turns a re-publish after a crash into a no-op. Local (SAS key) auth is off.

@description('Name of the Service Bus namespace.')
param namespaceName string

@description('Region of the namespace.')
param location string

@description('Tags applied to the namespace.')
param tags object = {}

@description('Principal id of the function app identity: it publishes to and consumes from every queue.')
param appPrincipalId string

@description('Optional principal id of a developer, given the same send and receive roles. Empty: nobody else.')
param developerPrincipalId string = ''

// The code's names (shared/adapters/servicebus/names.ts); test/infra checks they agree.
var escalationsQueueName = 'escalations'
var timersQueueName = 'ticket-timers'
var commandsQueueName = 'ticket-commands'
var notificationsQueueName = 'notifications'

var senderRoleId = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender
var receiverRoleId = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' // Azure Service Bus Data Receiver

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  // Standard: the lowest tier with duplicate detection and scheduled messages.
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource escalationsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: escalationsQueueName
  properties: {
    // Long enough for the handler to call every ops channel before the lock lapses.
    lockDuration: 'PT1M'
    // After 10 failed deliveries a message is dead-lettered, which raises the alert in alerts.bicep.
    maxDeliveryCount: 10
    requiresDuplicateDetection: true
    // A re-publish of the same outbox entry within a day is dropped by the broker.
    duplicateDetectionHistoryTimeWindow: 'P1D'
    // An alert nobody could deliver within a day is dead-lettered (and alerted on), never silently dropped.
    defaultMessageTimeToLive: 'P1D'
    deadLetteringOnMessageExpiration: true
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

resource timersQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: timersQueueName
  properties: {
    // The handler re-reads the ticket and writes one batch: far less than a minute.
    lockDuration: 'PT1M'
    // After 10 failed deliveries a timer is dead-lettered, which raises its alert in alerts.bicep.
    maxDeliveryCount: 10
    requiresDuplicateDetection: true
    // The broker's longest window (it allows 20 seconds to 7 days): an entry whose `sent` mark
    // was lost is re-published whenever the dispatcher next gets to it, and timers are few.
    duplicateDetectionHistoryTimeWindow: 'P7D'
    // A scheduled message's time to live counts from its scheduled instant, not from when it was
    // sent, so a timer set months ahead is unaffected. A due timer nothing receives for a week is
    // dead-lettered (and alerted on), never silently dropped; a late timer still judges the clock
    // at its due time, so it is worth keeping longer than an escalation's page (P1D).
    defaultMessageTimeToLive: 'P7D'
    deadLetteringOnMessageExpiration: true
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

resource commandsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: commandsQueueName
  properties: {
    // The handler applies one command to one ticket and writes one batch: far less than a minute.
    lockDuration: 'PT1M'
    // After 10 failed deliveries a command is dead-lettered, which raises its alert in alerts.bicep.
    maxDeliveryCount: 10
    requiresDuplicateDetection: true
    // As the timers' queue: the broker's longest window, so an entry whose `sent` mark was lost
    // is dropped as a duplicate whenever the dispatcher next gets to it.
    duplicateDetectionHistoryTimeWindow: 'P7D'
    // A command nothing receives for a week is dead-lettered (and alerted on), never silently
    // dropped: the other ticket would otherwise never get the broadcast, status or link.
    defaultMessageTimeToLive: 'P7D'
    deadLetteringOnMessageExpiration: true
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

resource notificationsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: notificationsQueueName
  properties: {
    // The handler makes one call (an email handed to Communication Services, or one webhook
    // request, each with its own timeout): far less than a minute.
    lockDuration: 'PT1M'
    // The code retries an email or event the receiver did not take itself, with backoff
    // (NOTIFICATION_RETRY_SECONDS, NOTIFICATION_MAX_RETRIES). After 10 failed deliveries a message
    // is dead-lettered, which raises its alert in alerts.bicep.
    maxDeliveryCount: 10
    requiresDuplicateDetection: true
    // As the other outbox queues: the broker's longest window, so an entry whose `sent` mark was
    // lost is dropped as a duplicate whenever the dispatcher next gets to it (no second email).
    duplicateDetectionHistoryTimeWindow: 'P7D'
    // An email or event nothing receives for a week (the app down, say) is dead-lettered and
    // alerted on, never silently dropped; within the week it is still delivered, late.
    defaultMessageTimeToLive: 'P7D'
    deadLetteringOnMessageExpiration: true
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

// Roles are scoped to each queue, not the namespace: the app touches nothing else.
resource appSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(escalationsQueue.id, appPrincipalId, senderRoleId)
  scope: escalationsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', senderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(escalationsQueue.id, appPrincipalId, receiverRoleId)
  scope: escalationsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', receiverRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource developerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in [senderRoleId, receiverRoleId]: if (!empty(developerPrincipalId)) {
  name: guid(escalationsQueue.id, developerPrincipalId, roleId)
  scope: escalationsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    // No principalType: a developer may be a user or, in CI, a service principal.
    principalId: developerPrincipalId
  }
}]

// The same roles on the timers queue.
resource timersAppSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(timersQueue.id, appPrincipalId, senderRoleId)
  scope: timersQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', senderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource timersAppReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(timersQueue.id, appPrincipalId, receiverRoleId)
  scope: timersQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', receiverRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource timersDeveloperRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in [senderRoleId, receiverRoleId]: if (!empty(developerPrincipalId)) {
  name: guid(timersQueue.id, developerPrincipalId, roleId)
  scope: timersQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    // No principalType: a developer may be a user or, in CI, a service principal.
    principalId: developerPrincipalId
  }
}]

// The same roles on the ticket commands' queue.
resource commandsAppSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(commandsQueue.id, appPrincipalId, senderRoleId)
  scope: commandsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', senderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource commandsAppReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(commandsQueue.id, appPrincipalId, receiverRoleId)
  scope: commandsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', receiverRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource commandsDeveloperRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in [senderRoleId, receiverRoleId]: if (!empty(developerPrincipalId)) {
  name: guid(commandsQueue.id, developerPrincipalId, roleId)
  scope: commandsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    // No principalType: a developer may be a user or, in CI, a service principal.
    principalId: developerPrincipalId
  }
}]

// The same roles on the notifications' queue: the app publishes to it (the outbox dispatcher)
// and receives from it (its `notifications` trigger).
resource notificationsAppSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(notificationsQueue.id, appPrincipalId, senderRoleId)
  scope: notificationsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', senderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource notificationsAppReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(notificationsQueue.id, appPrincipalId, receiverRoleId)
  scope: notificationsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', receiverRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource notificationsDeveloperRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in [senderRoleId, receiverRoleId]: if (!empty(developerPrincipalId)) {
  name: guid(notificationsQueue.id, developerPrincipalId, roleId)
  scope: notificationsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    // No principalType: a developer may be a user or, in CI, a service principal.
    principalId: developerPrincipalId
  }
}]

output namespaceName string = namespace.name
output namespaceId string = namespace.id
// Host name only (e.g. sb-x.servicebus.windows.net), what identity-based clients take, cut
// from the endpoint (https://host:443/) rather than assuming the public cloud's suffix.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '/')[2], ':')[0]
output escalationQueueName string = escalationsQueue.name
output timerQueueName string = timersQueue.name
output ticketCommandsQueueName string = commandsQueue.name
output notificationsQueueName string = notificationsQueue.name
