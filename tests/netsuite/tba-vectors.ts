/**
 * Our own TBA known-answer vector, computed independently with Python's hmac/urllib (RFC 5849 encoding), for a
 * record-list GET whose `q` filter holds spaces (sent as "+"), quotes, slashes and a colon, and secrets with
 * characters that must be percent-encoded in the signing key. Not a NetSuite capture.
 */
export const FORM_ENCODED_QUERY_VECTOR = {
  method: 'GET',
  url: 'https://tstdrv1236577.suitetalk.api.netsuite.com/services/rest/record/v1/customer?q=lastModifiedDate+ON_OR_AFTER+%2204%2F15%2F26+9%3A00+AM%22&limit=100&offset=200',
  realm: 'TSTDRV1236577',
  consumerKey: 'duely-consumer-key-0001',
  consumerSecret: 'consumer secret with spaces&amp',
  tokenId: 'token-id-0001',
  tokenSecret: 'token/secret+0001',
  nonce: 'AbCdEfGhIj0123456789',
  timestamp: '1765000000',
  baseString:
    'GET&https%3A%2F%2Ftstdrv1236577.suitetalk.api.netsuite.com%2Fservices%2Frest%2Frecord%2Fv1%2Fcustomer&limit%3D100%26oauth_consumer_key%3Dduely-consumer-key-0001%26oauth_nonce%3DAbCdEfGhIj0123456789%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1765000000%26oauth_token%3Dtoken-id-0001%26oauth_version%3D1.0%26offset%3D200%26q%3DlastModifiedDate%2520ON_OR_AFTER%2520%252204%252F15%252F26%25209%253A00%2520AM%2522',
  signingKey: 'consumer%20secret%20with%20spaces%26amp&token%2Fsecret%2B0001',
  signature: 'vDkBSZ//yBtUFj8XITQPCTW8riiHvERwn9YrnvCMx5s=',
} as const;
