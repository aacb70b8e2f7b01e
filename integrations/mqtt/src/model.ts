/**
 * What a family parser makes of one MQTT message: plain data, no I/O. The router turns it into
 * device/entity registrations, readings, availability and diagnostics.
 */
import type { CommandName, DeviceInfo, EntityInfo, ReportValue } from '@joulehub/core/sdk';

/** Why (part of) a message could not be used; counted per device in diagnostics. */
export type ProblemKind = 'malformed' | 'wrong_type' | 'unknown_topic' | 'oversized' | 'unsupported';

export interface Problem {
  kind: ProblemKind;
  detail: string;
}

export interface Reading {
  key: string;
  value: ReportValue;
  /** Epoch ms from the payload; omitted = when the hub received it. */
  at?: number;
}

/** How a switch entity is commanded: the family's topic and payload for each command. */
export interface SwitchControl {
  topic: string;
  payload(command: CommandName): string | undefined;
}

/**
 * A counter whose epoch is known (Tasmota `TotalStartTime`): when `epoch` changes, the device
 * restarted the counter even if the new value is above the old one.
 */
export interface CounterEpoch {
  key: string;
  epoch: string;
}

/** Everything one message says about one device. */
export interface DeviceMessage {
  device: DeviceInfo;
  /** Entities the readings (and controls) need, described as data. */
  entities: EntityInfo[];
  readings: Reading[];
  /** An availability signal for the whole device (LWT, `online`, z2m availability). */
  available?: boolean;
  problems: Problem[];
  controls?: Record<string, SwitchControl>;
  counters?: CounterEpoch[];
}

/** The result of offering a message to a family: null = not this family's topic. */
export type ParseResult =
  | { kind: 'devices'; messages: DeviceMessage[] }
  /** A topic of this family that carries nothing Joulehub records (announce, temperature, our own commands). */
  | { kind: 'ignored' }
  /** A topic of this family it does not know; `deviceId` when the topic names a device. */
  | { kind: 'unknown'; deviceId?: string; problem: Problem };

export interface Family {
  id: string;
  /** Topic filters to subscribe to. */
  subscriptions: string[];
  parse(topic: string, payload: string): ParseResult | null;
}

export function deviceMessage(device: DeviceInfo): DeviceMessage {
  return { device, entities: [], readings: [], problems: [] };
}
