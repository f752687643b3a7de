/**
 * Reading a field of plain data (item JSON, events) by a dot path such as `contact.email`, without evaluating
 * anything.
 */

/**
 * The value at `path` in `obj`. A key spelled exactly `path` (dots included) wins whenever it is present, even when
 * it holds undefined; otherwise the dot-separated parts are read one after the other (`valueAtNestedPath`). Like
 * plain property access, inherited keys count.
 */
export function valueAtPath(obj: object, path: string): unknown {
	if (path in obj) return (obj as Record<string, unknown>)[path];
	return valueAtNestedPath(obj, path);
}

/** `a.b.c` read as obj.a.b.c: undefined as soon as a part is missing or not an object. */
export function valueAtNestedPath(obj: unknown, path: string): unknown {
	let value = obj;
	for (const part of path.split('.')) {
		if (value === null || typeof value !== 'object') return undefined;
		value = (value as Record<string, unknown>)[part];
	}
	return value;
}
