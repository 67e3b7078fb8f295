import { RemovalPolicy } from "aws-cdk-lib";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as deployment from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";

/** The page's configuration (web/src/api.ts reads it from beside the page). */
export interface DashboardConfig {
  apiBase: string;
}

/**
 * The fleet dashboard's static files on a private bucket, served only
 * through CloudFront (origin access control), with config.json naming the
 * API. The files hold no data; every query goes to the API with the key
 * the page asks for.
 */
export class DashboardHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, "Bucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Only build output lives here: deleting the stack may take it along.
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    this.distribution = new cloudfront.Distribution(this, "Distribution", {
      comment: "sensord fleet dashboard",
      defaultRootObject: "index.html",
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });
  }

  /** The browser origin of the page (what CORS answers must name). */
  get origin(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /** Uploads the staged files (see stageDashboard) and config.json; invalidates what changes per deploy. */
  deploy(stagedDir: string, config: DashboardConfig): void {
    new deployment.BucketDeployment(this, "Files", {
      sources: [
        deployment.Source.asset(stagedDir),
        deployment.Source.jsonData("config.json", config),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ["/index.html", "/config.json", "/static/*"],
      memoryLimit: 256,
    });
  }
}
