/** The ECR calls berth makes, and nothing else. */
import type { Tags } from './types.js';

export interface EcrRepository {
  name: string;
  arn: string;
  uri: string;
  registryId: string;
  scanOnPush: boolean;
  /** AES256, KMS or KMS_DSSE. */
  encryptionType: string;
  kmsKey?: string;
}

export interface CreateRepositoryInput {
  name: string;
  scanOnPush: boolean;
  encryptionType: 'AES256' | 'KMS';
  kmsKey?: string;
  tags: Tags;
}

export interface EcrImage {
  /** sha256:… of the manifest. */
  digest: string;
  tags: string[];
  pushedAt?: Date;
}

export interface EcrAuthorizationToken {
  /** base64("AWS:<password>") — a credential: registered with the redactor when read. */
  token: string;
  /** e.g. https://123456789012.dkr.ecr.us-east-1.amazonaws.com */
  proxyEndpoint: string;
  expiresAt?: Date;
}

export interface EcrApi {
  /** undefined when there is no such repository. */
  describeRepository(name: string): Promise<EcrRepository | undefined>;
  createRepository(input: CreateRepositoryInput): Promise<EcrRepository>;
  putImageScanningConfiguration(name: string, scanOnPush: boolean): Promise<void>;
  /** The lifecycle policy text, or undefined when none is set. */
  getLifecyclePolicy(name: string): Promise<string | undefined>;
  putLifecyclePolicy(name: string, policyText: string): Promise<void>;
  listTags(arn: string): Promise<Tags>;
  tagResource(arn: string, tags: Tags): Promise<void>;
  /** The image a tag points to; undefined when the tag or the repository does not exist. */
  describeImageTag(name: string, tag: string): Promise<EcrImage | undefined>;
  /** Images (distinct digests) in the repository. */
  countImages(name: string): Promise<number>;
  /** `force` deletes the images too (the seed's `--force`). */
  deleteRepository(name: string, force: boolean): Promise<void>;
  /** For `docker login` before a push (src/image). */
  getAuthorizationToken(registryId?: string): Promise<EcrAuthorizationToken>;
}
