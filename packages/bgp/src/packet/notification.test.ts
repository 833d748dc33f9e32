import { CeaseSubcode, ErrorCode, errorName, UpdateSubcode } from './constants';
import {
  ceaseNotification,
  decodeNotification,
  describeNotification,
  encodeNotification,
  notification,
  shutdownCommunication,
} from './notification';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const MARKER = 'ffffffffffffffffffffffffffffffff';

describe('NOTIFICATION', () => {
  test('encodes code, subcode and data after the header (RFC 4271 §4.5)', () => {
    const n = notification(ErrorCode.UpdateMessage, UpdateSubcode.AttributeLengthError, hex('40 01 02 0000'));
    expect(encodeNotification(n)).toEqual(hex(`${MARKER} 001a 03 03 05 4001020000`));
  });

  test('round-trips through decode', () => {
    const n = notification(ErrorCode.OpenMessage, 1, hex('0004'));
    expect(decodeNotification(encodeNotification(n).subarray(19))).toEqual(n);
  });

  test('a body too short for code and subcode decodes to null (RFC 4271 §6.4: it cannot be answered)', () => {
    expect(decodeNotification(hex('06'))).toBeNull();
  });

  test('carries an RFC 9003 shutdown communication for Administrative Shutdown', () => {
    const n = ceaseNotification(CeaseSubcode.AdministrativeShutdown, 'bye');
    expect(encodeNotification(n)).toEqual(hex(`${MARKER} 0019 03 06 02 03 627965`));
    expect(shutdownCommunication(n)).toBe('bye');
    expect(describeNotification(n)).toBe('Cease / Administrative Shutdown: "bye"');
  });

  test('a shutdown communication whose length overruns the data is ignored', () => {
    expect(shutdownCommunication(notification(ErrorCode.Cease, 2, hex('09 6162')))).toBeNull();
  });

  test('refuses shutdown communications that RFC 9003 does not allow', () => {
    expect(() => ceaseNotification(CeaseSubcode.PeerDeconfigured, 'x')).toThrow(
      /Administrative Shutdown or Reset/,
    );
    expect(() => ceaseNotification(CeaseSubcode.AdministrativeReset, 'é'.repeat(128))).toThrow(/256 octets/);
  });

  test('names codes and subcodes for logs', () => {
    expect(errorName(3, 11)).toBe('UPDATE Message Error / Malformed AS_PATH');
    expect(errorName(6, 7)).toBe('Cease / Connection Collision Resolution');
    expect(errorName(7, 1)).toBe('ROUTE-REFRESH Message Error / Invalid Message Length');
    expect(errorName(4, 0)).toBe('Hold Timer Expired');
    expect(errorName(42, 3)).toBe('Error code 42 / subcode 3');
    expect(describeNotification(notification(3, 5, hex('400100')))).toBe(
      'UPDATE Message Error / Attribute Length Error (data 400100)',
    );
  });
});
