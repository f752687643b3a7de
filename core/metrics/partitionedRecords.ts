/**
 * Fixed-width records of 32-bit ints appended straight into 2^bits partitions, chosen by the top bits of a hash.
 *
 * Counting distinct keys among ten million needs one hash table per partition small enough for the CPU cache;
 * writing each record into its partition at once (in blocks carved from one pool) saves the dense array and the
 * scatter pass of a classic radix partition, about half the memory touched. The pool is a lazily zeroed shared
 * buffer sized for the worst case: pages never written cost nothing, and fresh pages are what costs most (each
 * first touch is a page fault; on some virtual machines 3–5 ms per MB).
 */
import { scratch } from './scratch';

/** Records per block: one block is a few KB, so the blocks being filled (one per partition) stay in the cache. */
const BLOCK_RECORDS = 128;

/** Partition bits for about `count` records: partitions of about 16k records, at most 1024 of them. */
export function partitionBits(count: number): number {
	let bits = 0;
	while (bits < 10 && count >> bits > 16_384) bits++;
	return bits;
}

export class PartitionedRecords {
	readonly data: Int32Array;
	readonly parts: number;
	/** Records per partition. */
	readonly counts: Int32Array;
	private readonly shift: number;
	private readonly blockInts: number;
	/** Offset of each partition's first and current block, −1 before its first record. */
	private readonly head: Int32Array;
	private readonly tail: Int32Array;
	/** Ints used in each partition's current block. */
	private readonly fill: Int32Array;
	/** The block after each block (by block number), −1 for the last. */
	private readonly next: Int32Array;
	private used = 0;

	/** Room for `capacity` records of `width` ints, in 2^bits partitions. */
	constructor(
		readonly width: number,
		capacity: number,
		readonly bits: number,
	) {
		this.parts = 1 << bits;
		this.shift = 32 - bits;
		this.blockInts = BLOCK_RECORDS * width;
		const blocks = Math.ceil(capacity / BLOCK_RECORDS) + this.parts;
		this.data = scratch(Int32Array, blocks * this.blockInts);
		this.next = scratch(Int32Array, blocks);
		this.counts = scratch(Int32Array, this.parts);
		this.head = scratch(Int32Array, this.parts).fill(-1);
		this.tail = scratch(Int32Array, this.parts).fill(-1);
		this.fill = scratch(Int32Array, this.parts).fill(this.blockInts);
	}

	/** Offset in `data` of a new record in the partition of hash `h`; the caller writes its `width` fields there. */
	append(h: number): number {
		const p = this.bits > 0 ? h >>> this.shift : 0;
		this.counts[p]++;
		const f = this.fill[p];
		if (f < this.blockInts) {
			this.fill[p] = f + this.width;
			return this.tail[p] + f;
		}
		const block = this.used;
		this.used = block + this.blockInts;
		this.next[block / this.blockInts] = -1;
		const tail = this.tail[p];
		if (tail < 0) this.head[p] = block;
		else this.next[tail / this.blockInts] = block;
		this.tail[p] = block;
		this.fill[p] = this.width;
		return block;
	}

	/** Offset of partition `p`'s first block, −1 when it is empty. Walk: firstBlock, blockEnd, nextBlock. */
	firstBlock(p: number): number {
		return this.head[p];
	}

	/** The block after `block`, −1 at the end. */
	nextBlock(block: number): number {
		return this.next[block / this.blockInts];
	}

	/** End offset of the records in `block` of partition `p` (records start at `block`, `width` ints each). */
	blockEnd(p: number, block: number): number {
		return block === this.tail[p] ? block + this.fill[p] : block + this.blockInts;
	}

	/** The largest partition's record count. */
	maxCount(): number {
		let max = 0;
		for (let p = 0; p < this.parts; p++) max = Math.max(max, this.counts[p]);
		return max;
	}
}
