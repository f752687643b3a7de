/** The edge's counters: one set per created edge, never shared between instances. */
import type { TrackingEdgeStats } from './types';

/** Every counter at zero. */
export function createCounters(): TrackingEdgeStats {
	return {
		requests: 0,
		answeredHere: 0,
		notForwardedHits: 0,
		refused: 0,
		forwarded: 0,
		relayed: 0,
		upstreamFailures: 0,
		lostEvents: 0,
		conversionRetryAnswers: 0,
		unsubscribeRetryPages: 0,
		connections: 0,
		connectionsAccepted: 0,
		connectionsEvicted: 0,
		connectionsRefused: 0,
		connectionsTimedOut: 0,
		clientErrors: 0,
	};
}
