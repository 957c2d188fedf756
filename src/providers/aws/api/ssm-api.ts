/**
 * Systems Manager Parameter Store: berth only describes the parameters task.secrets names
 * (DescribeParameters, metadata only). It never calls GetParameter(s): those return values.
 */
export type ParameterType = 'String' | 'StringList' | 'SecureString';

export interface ParameterDescription {
  /** The parameter's name as Parameter Store keeps it (`/path/name`). */
  name: string;
  /** Its ARN, when the answer carries one (AWS does; some emulators do not). */
  arn?: string;
  type: ParameterType;
  /** The KMS key of a SecureString (`alias/aws/ssm` for the AWS-managed key). */
  kmsKeyId?: string;
}

export interface SsmApi {
  /** The parameters among `names` that exist (by exact name); missing ones are left out. */
  describeParameters(names: readonly string[]): Promise<ParameterDescription[]>;
}
