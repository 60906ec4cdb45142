// The attachments' storage account (issue 13): screenshots and logs that requesters and agents
// send straight to Blob Storage with a short-lived user-delegation SAS the API hands out, never
// through the API. Apart from the Functions host's account (storage.bicep), so that its CORS, its
// lifecycle rule, its malware scanning and the app's data roles on it reach nothing else.
// Shared-key access is off: no account key exists to sign a SAS, only the identity's user
// delegation key can, and anonymous access is off. test/infra checks all of it
// (infra/verify/storage.ts and security.ts).
//
// Blob names inside the container, as the code gives them (shared/attachments/domain/attachment.ts,
// blobNameOf; test/infra reads the prefixes from there):
//   uploads/<ticket>/<id>  written by a client through its upload SAS, not attached yet. The
//                          lifecycle rule below deletes such a blob once it was last written more
//                          than 24 hours ago, at the policy's next daily run: so between 24 and
//                          48 hours after the upload (Azure runs lifecycle rules once a day).
//   files/<ticket>/<id>    an attachment of a comment or a ticket, where an upload goes once
//                          attached, kept as long as the ticket. No lifecycle rule touches it.

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Region of the storage account.')
param location string

@description('Tags applied to the storage account.')
param tags object = {}

@description('Browser origins allowed to upload and download (the API\'s CORS_ALLOWED_ORIGINS). Empty: no CORS rule, so only clients that are not browsers (mobile apps, scripts) can upload.')
param corsAllowedOrigins array = []

@description('Principal id of the function app identity.')
param appPrincipalId string

@description('Malware scanning stops for the month once this many GB were scanned (-1: no cap). Defender bills per GB scanned; an upload not scanned is never served.')
@minValue(-1)
param malwareScanningCapGBPerMonth int = 1000

// The code's default for ATTACHMENTS_CONTAINER; the app gets it as a setting all the same.
var containerName = 'attachments'
// Blobs not attached yet (see above); the lifecycle rule deletes them.
var uploadsPrefix = 'uploads/'

// The app's roles here, each for what the code does with attachments (infra/verify/storage.ts,
// ATTACHMENT_NEEDS, lists it).
// Storage Blob Data Contributor, on the container only: the code reads an upload's first bytes and
// size, keeps it under files/ once attached, deletes refused and stale ones, and signs SAS that
// create or read one blob (a SAS grants at most what its signer may).
var blobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
// Storage Blob Delegator, on the account: the user delegation key that signs every SAS is an
// account-level action, which a role on the container does not grant.
var blobDelegatorRoleId = 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'

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
    // Clients upload from anywhere; every request still needs a SAS signed by the identity.
    publicNetworkAccess: 'Enabled'
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: account
  name: 'default'
  properties: {
    // Browsers upload (PUT, in blocks so a phone can resume) and read from the API's origins. No
    // rule at all when there are none: Azure refuses a rule without origins.
    cors: {
      corsRules: empty(corsAllowedOrigins) ? [] : [
        {
          allowedOrigins: corsAllowedOrigins
          allowedMethods: [
            'PUT'
            'GET'
            'HEAD'
            'OPTIONS'
          ]
          // What a block upload (Put Blob, Put Block, Put Block List) and a download send, from a
          // plain fetch or from @azure/storage-blob in a browser (x-ms-blob-type, x-ms-version,
          // x-ms-blob-content-type, x-ms-client-request-id...: storage allows prefixed headers).
          // The same as the blob adapter's rule for the local Azurite.
          allowedHeaders: [
            'content-type'
            'content-length'
            'content-md5'
            'x-ms-*'
          ]
          exposedHeaders: [
            'content-type'
            'content-length'
            'content-disposition'
            'etag'
            'last-modified'
            'x-ms-*'
          ]
          maxAgeInSeconds: 3600
        }
      ]
    }
    // Soft delete: a blob deleted by the code, the lifecycle rule or by mistake can be restored
    // for 7 days (and a deleted container too).
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}

// Uploads never attached are deleted once 24 hours old (at the next daily run): only blobs under
// uploads/, never files/.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-06-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-unattached-uploads'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              // <container>/<prefix>: lifecycle prefixes start with the container's name.
              prefixMatch: [
                '${containerName}/${uploadsPrefix}'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 1
                }
              }
            }
          }
        }
      ]
    }
  }
}

// Malware scanning of every blob written in the account, on upload, with the result written on
// the blob as index tags: the code serves an attachment only once
// `Malware Scanning scan result` says no threat was found.
resource defender 'Microsoft.Security/defenderForStorageSettings@2025-06-01' = {
  name: 'current'
  scope: account
  properties: {
    isEnabled: true
    malwareScanning: {
      onUpload: {
        isEnabled: true
        capGBPerMonth: malwareScanningCapGBPerMonth
      }
      blobScanResultsOptions: 'blobIndexTags'
    }
    sensitiveDataDiscovery: {
      isEnabled: false
    }
    // These settings, not the subscription's (if Defender for Storage is on there too).
    overrideSubscriptionLevelSettings: true
  }
}

var resourceGroupId = resourceGroup().id

// Reading a blob's index tags (the scan result) is in no Blob Data role but Owner, which can
// also write them: this role lets the app read them and nothing else, so no SAS it signs can
// set a scan result either. Custom role names are unique in the tenant: this one names the account.
resource scanResultReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroupId, name, 'attachments-scan-result-reader')
  properties: {
    roleName: 'Help desk attachments scan result reader (${name})'
    description: 'Reads the blob index tags of the help desk attachments (the malware scan results).'
    type: 'CustomRole'
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/read'
        ]
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroupId
    ]
  }
}

resource contributorRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, appPrincipalId, blobDataContributorRoleId)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource delegatorRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, blobDelegatorRoleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDelegatorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource scanResultReaderRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, appPrincipalId, 'attachments-scan-result-reader')
  scope: container
  properties: {
    roleDefinitionId: scanResultReader.id
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

var blobEndpoint = account.properties.primaryEndpoints.blob

output name string = account.name
// ATTACHMENTS_ACCOUNT_URL: the blob endpoint without its trailing slash
// (https://<account>.blob.core.windows.net), as the code's example has it.
output accountUrl string = endsWith(blobEndpoint, '/') ? substring(blobEndpoint, 0, length(blobEndpoint) - 1) : blobEndpoint
output containerName string = container.name
