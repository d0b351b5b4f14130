"""A CDK app outside the repository that uses the installed otel-fargate wheel."""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from otel_fargate import CollectorGateway, CollectorSidecar, DebugExporter

app = cdk.App()
stack = cdk.Stack(app, "OutsideApp")
vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
cluster = ecs.Cluster(
    stack,
    "Cluster",
    vpc=vpc,
    default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(
        name="outside.internal", type=servicediscovery.NamespaceType.HTTP
    ),
)
gateway = CollectorGateway(stack, "Gateway", cluster=cluster, exporters=[DebugExporter()])
task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
web = task.add_container(
    "web", image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:stable"),
    memory_limit_mib=384,  # + 512 (collector) + 128 (Service Connect proxy) = 1024
)
CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[web], gateway=gateway)
ecs.FargateService(
    stack, "Web", cluster=cluster, task_definition=task,
    service_connect_configuration=gateway.service_connect_client(),
)
app.synth()
