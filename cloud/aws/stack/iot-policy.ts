import { Stack } from "aws-cdk-lib";
import * as iot from "aws-cdk-lib/aws-iot";
import { Construct } from "constructs";

// biome-ignore lint/suspicious/noTemplateCurlyInString: an AWS IoT policy variable, filled in by IoT Core per connection
const THING = "${iot:Connection.Thing.ThingName}";
// biome-ignore lint/suspicious/noTemplateCurlyInString: an AWS IoT policy variable, filled in by IoT Core per connection
const GROUP = "${iot:Connection.Thing.Attributes[group]}";

/**
 * The policy every sensord thing's certificate gets. A device may connect
 * only as its own thing (client id = thing name = `[device] id`), publish
 * alert events only to its group's warning topic `pi/<group>` (the thing
 * attribute `group`), and its status, retained, to the relay's default
 * `sensord/<device>/status` (also its last will). With homeassistant =
 * false the relay subscribes to its own discovery topics once per connect
 * to clear stale configs; that subscription is allowed, nothing else is.
 */
export class DevicePolicy extends Construct {
  readonly policy: iot.CfnPolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const arn = (resource: string, name: string): string =>
      Stack.of(this).formatArn({ service: "iot", resource, resourceName: name });
    const statusTopic = arn("topic", `sensord/${THING}/status`);
    this.policy = new iot.CfnPolicy(this, "Policy", {
      policyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "iot:Connect",
            Resource: arn("client", THING),
            // Only a certificate attached to a thing can connect (the variables need one).
            Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } },
          },
          {
            Effect: "Allow",
            Action: "iot:Publish",
            Resource: [arn("topic", `pi/${GROUP}`), statusTopic],
          },
          {
            Effect: "Allow",
            Action: "iot:RetainPublish",
            Resource: statusTopic,
          },
          {
            Effect: "Allow",
            Action: "iot:Subscribe",
            Resource: [
              arn("topicfilter", `homeassistant/sensor/${THING}/+/config`),
              arn("topicfilter", `homeassistant/binary_sensor/${THING}/+/config`),
            ],
          },
        ],
      },
    });
  }
}
