// A dead-lettered message is work that happens nowhere unless a human steps in: an escalation
// is an alert that reached nobody, an SLA timer a warning or breach not handled when due, a
// ticket command a broadcast, status move or link another ticket never got, a notification a
// requester email nobody sent (or a webhook event no app got). Page a human about
// any of them through an action group, independently of the app's own ops channels
// (which may be what failed). One metric alert per queue, each saying what its loss means.

@description('Name of the action group.')
param actionGroupName string

@description('Name of the metric alert on dead-lettered escalations.')
param escalationAlertName string

@description('Name of the metric alert on dead-lettered SLA timers.')
param timerAlertName string

@description('Name of the metric alert on dead-lettered ticket commands.')
param ticketCommandAlertName string

@description('Name of the metric alert on dead-lettered notifications.')
param notificationAlertName string

@description('Tags applied to every resource.')
param tags object = {}

@description('Resource id of the Service Bus namespace.')
param serviceBusNamespaceId string

@description('Queue of the escalations.')
param escalationQueueName string

@description('Queue of the SLA clocks\' timers.')
param timerQueueName string

@description('Queue of the commands one ticket\'s change fans out to other tickets.')
param ticketCommandsQueueName string

@description('Queue of the requester emails and the apps\' webhook events.')
param notificationsQueueName string

@description('Email address told about dead-lettered messages. Empty: the alerts fire in the portal only.')
param alertEmail string = ''

var deadLetterAlerts = [
  {
    name: escalationAlertName
    queueName: escalationQueueName
    criterion: 'DeadletteredEscalations'
    description: 'An escalation message was dead-lettered in ${escalationQueueName}: an ops alert was not delivered.'
  }
  {
    name: timerAlertName
    queueName: timerQueueName
    criterion: 'DeadletteredTimers'
    description: 'An SLA timer was dead-lettered in ${timerQueueName}: a warning or breach was not handled when due.'
  }
  {
    name: ticketCommandAlertName
    queueName: ticketCommandsQueueName
    criterion: 'DeadletteredTicketCommands'
    description: 'A ticket command was dead-lettered in ${ticketCommandsQueueName}: another ticket did not get a broadcast, status move or link.'
  }
  {
    name: notificationAlertName
    queueName: notificationsQueueName
    criterion: 'DeadletteredNotifications'
    description: 'A notification was dead-lettered in ${notificationsQueueName}: a requester email was not sent, or a webhook event to an app not handled.'
  }
]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  // Action groups are global resources.
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'helpdesk'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'ops-email'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource deadLetterAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = [for alert in deadLetterAlerts: {
  name: alert.name
  location: 'global'
  tags: tags
  properties: {
    description: alert.description
    severity: 1
    enabled: true
    scopes: [
      serviceBusNamespaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    // Maximum over the window: fires while any dead-lettered message sits in the queue.
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: alert.criterion
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          // The metric per queue: this alert watches its own queue only.
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                alert.queueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}]

output actionGroupId string = actionGroup.id
