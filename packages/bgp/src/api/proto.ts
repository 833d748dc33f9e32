// The margay.bgp.v1 service definition, loaded from the .proto file at run time. The file lives
// in proto/ at the package root, two levels above both src/api and dist/api.

import { join } from 'node:path';
import { type GrpcObject, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export const PROTO_FILE = join(__dirname, '..', '..', 'proto', 'margay', 'bgp', 'v1', 'bgp.proto');

let service: ServiceClientConstructor | undefined;

/** The BgpService constructor; its `.service` is the definition a server implements. */
export function bgpService(): ServiceClientConstructor {
  if (!service) {
    const definition = loadSync(PROTO_FILE, { longs: Number, enums: String, defaults: true, oneofs: true });
    const v1 = ((loadPackageDefinition(definition).margay as GrpcObject).bgp as GrpcObject).v1 as GrpcObject;
    service = v1.BgpService as ServiceClientConstructor;
  }
  return service;
}
