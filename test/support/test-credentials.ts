/**
 * Fake keys in this process's environment: the SDK's credentials chain takes them first, so it never looks for
 * real ones (or asks IMDS, which it does with requests of its own, not through the Host).
 */
export function useTestCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}
