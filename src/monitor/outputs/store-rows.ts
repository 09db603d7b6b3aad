/**
 * Maps the monitor's records to the store's row shapes (the store, the lowest room, knows neither
 * SyscallEvent nor Alert). The `json` column keeps each record losslessly: `eventToJson` for events
 * (parseEventJson reads it back), `alertToJsonLine` for alerts.
 */
import { eventCount, eventSyscallLabel, eventToJson, type SyscallEvent } from '../../sources/event.js';
import type { StoredAlert, StoredEvent } from '../../store/event-store.js';
import { alertToJsonLine, type Alert } from '../alert.js';

/** The store row for one event. */
export function eventToStoredRow(event: SyscallEvent): StoredEvent {
  return {
    time: event.time,
    host: event.host,
    source: event.source,
    serial: event.serial,
    pid: event.pid,
    exe: event.exe,
    container: event.containerId,
    syscall: eventSyscallLabel(event),
    count: eventCount(event),
    json: eventToJson(event),
  };
}

/** The store row for one alert. */
export function alertToStoredRow(alert: Alert): StoredAlert {
  return {
    time: alert.time,
    rule: alert.rule,
    severity: alert.severity,
    host: alert.host,
    pid: alert.pid,
    exe: alert.exe,
    container: alert.container,
    response: alert.response,
    json: alertToJsonLine(alert),
  };
}
