// The function app's host storage (AzureWebJobsStorage) and the blob container Flex
// Consumption deploys the app package from. Shared-key access is off, so every caller,
// the Functions host included, authenticates with Entra ID.

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Region of the storage account.')
param location string

@description('Tags applied to the storage account.')
param tags object = {}

@description('Name of the blob container holding the deployment package.')
param deploymentContainerName string

@description('Principal id of the function app identity.')
param appPrincipalId string

// The roles the Functions host needs on identity-based AzureWebJobsStorage for this app's
// triggers (HTTP, timer, Cosmos DB change feed, Service Bus), and nothing more. No queue role:
// only blob and queue triggers make the host use queues. test/infra checks each role here
// is one the host needs (infra/verify/deployment.ts, HOST_STORAGE_ROLES).
var storageRoleIds = {
  // Storage Blob Data Owner: the host's coordination, keys and timer locks are blobs, and Flex
  // Consumption reads the app package from the deployment container with this identity.
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Storage Table Data Contributor: the host writes its diagnostic events (shown in the portal's
  // diagnostics) to tables.
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource account 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    accessTier: 'Hot'
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in items(storageRoleIds): {
  name: guid(account.id, appPrincipalId, roleId.value)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId.value)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output tableEndpoint string = account.properties.primaryEndpoints.table
output deploymentContainerName string = deploymentContainerName
