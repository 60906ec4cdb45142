// Cosmos DB for NoSQL: the account, the help desk database, the `tickets` container
// (DESIGN.md section 5) and the `leases` container the change-feed trigger needs.
// Local (key) auth is off, so the app reaches data with its identity and the built-in
// Data Contributor role; that role cannot create containers, which is why both
// containers are declared here instead of being created by the code or the trigger.

@description('Name of the Cosmos DB account.')
param accountName string

@description('Region of the account (its only write region).')
param location string

@description('Tags applied to the account.')
param tags object = {}

@description('Name of the SQL database; the app reads it from COSMOS_DATABASE_NAME.')
param databaseName string

@description('serverless: pay per request (default). autoscale: provisioned throughput shared by the database, scaling between 10% and 100% of cosmosAutoscaleMaxThroughput.')
@allowed([
  'serverless'
  'autoscale'
])
param throughputMode string = 'serverless'

@description('Highest RU/s autoscale may reach, when throughputMode is autoscale.')
@minValue(1000)
param autoscaleMaxThroughput int = 1000

@description('Principal id of the function app identity, given the Data Contributor role.')
param appPrincipalId string

@description('Optional principal id of a developer, also given the Data Contributor role so the local host can use this account. Empty: nobody else.')
param developerPrincipalId string = ''

// The code's names (shared/adapters/cosmos/names.ts); test/infra checks they agree.
var ticketsContainerName = 'tickets'
var leasesContainerName = 'leases'
var isServerless = throughputMode == 'serverless'

// Cosmos DB Built-in Data Contributor (data plane: read and write items, query, change feed).
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: isServerless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    // Point-in-time restore to any second of the last 7 days, at no extra cost.
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-04-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    // Serverless accounts take no throughput setting; autoscale is shared by both containers.
    options: isServerless ? {} : {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    }
  }
}

resource ticketsContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-04-15' = {
  parent: database
  name: ticketsContainerName
  properties: {
    resource: {
      id: ticketsContainerName
      // A ticket, its timeline, outbox and idempotency records share one logical
      // partition so each command is one transactional batch.
      partitionKey: {
        paths: [
          '/ticketId'
        ]
        kind: 'Hash'
        version: 2
      }
      // The same file the local bootstrap applies, so queries behave alike everywhere.
      indexingPolicy: loadJsonContent('../../shared/adapters/cosmos/indexing-policy.json')
      // -1: nothing expires by default, but a record that carries `ttl` (an idempotency
      // record kept at least 24 h) is removed by Cosmos DB once it has lived that long.
      defaultTtl: -1
    }
  }
}

resource leasesContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-04-15' = {
  parent: database
  name: leasesContainerName
  properties: {
    resource: {
      id: leasesContainerName
      // The change-feed processor requires the leases container to be partitioned on /id.
      partitionKey: {
        paths: [
          '/id'
        ]
        kind: 'Hash'
        version: 2
      }
    }
  }
}

// The account takes one role assignment at a time, and not while containers are being
// created: in parallel the second fails with 412 "another operation is in progress". So the
// assignments are made after the containers, one after the other (test/infra checks it).
resource appDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = {
  parent: account
  name: guid(account.id, appPrincipalId, dataContributorRoleId)
  dependsOn: [
    ticketsContainer
    leasesContainer
  ]
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
    principalId: appPrincipalId
    scope: account.id
  }
}

resource developerDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = if (!empty(developerPrincipalId)) {
  parent: account
  name: guid(account.id, developerPrincipalId, dataContributorRoleId)
  dependsOn: [
    appDataContributor
  ]
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
    principalId: developerPrincipalId
    scope: account.id
  }
}

output accountName string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
output ticketsContainerName string = ticketsContainer.name
output leasesContainerName string = leasesContainer.name
