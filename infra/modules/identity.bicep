// The one identity the function app uses for every data-plane call (Storage, Cosmos DB,
// Service Bus, Key Vault, Application Insights). User-assigned rather than system-assigned
// so its role assignments can be granted before the app exists and survive a re-create.

@description('Name of the user-assigned managed identity.')
param name string

@description('Region of the identity.')
param location string

@description('Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
