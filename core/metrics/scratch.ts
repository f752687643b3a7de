/** Zeroed typed arrays for large scratch data. */
type Scratch = Int32Array | Uint8Array | Uint16Array | Float64Array;

/**
 * A zeroed typed array on a SharedArrayBuffer. V8 counts ordinary ArrayBuffer memory as external memory pressure
 * and answers a few hundred MB of it with full mark-compact pauses; with millions of event objects on the heap each
 * pause takes seconds. Shared buffers are not counted that way (they are still freed when unreachable), and their
 * pages are only mapped when first written.
 */
export function scratch<T extends Scratch>(Type: { new (buffer: ArrayBufferLike): T; BYTES_PER_ELEMENT: number }, length: number): T {
	const bytes = length * Type.BYTES_PER_ELEMENT;
	// a runtime without shared memory still gets correct results, only the GC pauses come back
	return new Type(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}

/** The smallest power of two ≥ n (at least 16). */
export function nextPow2(n: number): number {
	let p = 16;
	while (p < n) p *= 2;
	return p;
}
