import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccountRecovery, FeaturePlan, Mfa, UserPool, type UserPoolClient, type UserPoolGroup } from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface StampedeIdentityProps {
  readonly stageName: string;
  /**
   * A protected stage keeps its users: the pool has deletion protection and is retained when
   * the stack is deleted. A sandbox stage's pool is deleted with the stack.
   */
  readonly protected: boolean;
  /** The group whose members may create events (the functions' STAMPEDE_ORGANIZER_GROUP). */
  readonly organizerGroup: string;
}

/**
 * The stage's own token issuer: a Cognito user pool where users sign in with their email, a
 * group of organizers, and an app client a CLI can get tokens from (no secret; USER_PASSWORD_AUTH
 * and USER_SRP_AUTH). The API's JWT authorizer trusts the pool's tokens for that client.
 */
export class StampedeIdentity extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;
  readonly organizers: UserPoolGroup;
  /** `https://cognito-idp.<region>.<URL suffix>/<poolId>`: the `iss` of the pool's tokens. */
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: StampedeIdentityProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'UserPool', {
      userPoolName: `stampede-${props.stageName}`,
      // Lite has everything used here (passwords, groups, TOTP) at the lowest price per active user.
      featurePlan: FeaturePlan.LITE,
      // Users are created by an administrator (docs/deploy.md): a sandbox pool open to sign-ups
      // from the internet would be one more thing to abuse. A real sale brings its own sign-up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Offered, not forced (see the AwsSolutions-COG2 reason below). TOTP only: SMS costs per message.
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      deletionProtection: props.protected,
      removalPolicy: props.protected ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.organizers = this.userPool.addGroup('Organizers', {
      groupName: props.organizerGroup,
      description: 'May create events (POST /events)',
    });
    this.client = this.userPool.addClient('CliClient', {
      userPoolClientName: 'stampede-cli',
      generateSecret: false,
      authFlows: { userPassword: true, userSrp: true },
      // No hosted sign-in pages or redirects: tokens come from InitiateAuth.
      disableOAuth: true,
      preventUserExistenceErrors: true,
    });
    // The form API Gateway documents for a user pool issuer; the URL suffix is amazonaws.com.cn in China regions.
    this.issuer = `https://cognito-idp.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${this.userPool.userPoolId}`;

    Validations.of(this.userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is offered (TOTP) but not required: buyers of a flash sale sign in with a password and a strong password policy, ' +
          'and requiring a second factor from every buyer is a product decision, not a default. Organizers can enable TOTP.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason:
          "The Plus plan's threat protection is priced per monthly active user with no free tier, for every buyer of a sale. " +
          'The API is throttled per route, tokens are checked by API Gateway, and protected stages can bring their own issuer.',
      },
    );
  }

  /** The AWS CLI command that prints an ID token for a user of this pool. */
  get getTokenCommand(): string {
    return (
      `aws cognito-idp initiate-auth --region ${Stack.of(this).region} --auth-flow USER_PASSWORD_AUTH --client-id ${this.client.userPoolClientId} ` +
      '--auth-parameters USERNAME=<email>,PASSWORD=<password> --query AuthenticationResult.IdToken --output text'
    );
  }
}
