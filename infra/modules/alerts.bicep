// A dead-lettered escalation is an alert that reached nobody: page a human about it through
// an action group, independently of the app's own ops channels (which may be what failed).

@description('Name of the action group.')
param actionGroupName string

@description('Name of the metric alert.')
param alertName string

@description('Tags applied to both resources.')
param tags object = {}

@description('Resource id of the Service Bus namespace.')
param serviceBusNamespaceId string

@description('Queue whose dead-lettered messages raise the alert.')
param queueName string

@description('Email address told about dead-lettered escalations. Empty: the alert fires in the portal only.')
param alertEmail string = ''

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

resource deadLetterAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: alertName
  location: 'global'
  tags: tags
  properties: {
    description: 'An escalation message was dead-lettered in ${queueName}: an ops alert was not delivered.'
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
          name: 'DeadletteredEscalations'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                queueName
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
}

output actionGroupId string = actionGroup.id
