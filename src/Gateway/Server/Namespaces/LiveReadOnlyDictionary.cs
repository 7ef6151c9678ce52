using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace OrleansRooms;

/// <summary>
/// A read-only view of a <see cref="ConcurrentDictionary{TKey, TValue}"/> whose <see cref="Keys"/> and
/// <see cref="Values"/> are read from the dictionary each time. <see cref="System.Collections.ObjectModel.ReadOnlyDictionary{TKey, TValue}"/>
/// keeps the first <c>Keys</c> and <c>Values</c> it gets, and a concurrent dictionary's are copies: through it they stay
/// what the dictionary held when they were first read.
/// </summary>
internal sealed class LiveReadOnlyDictionary<TKey, TValue>(ConcurrentDictionary<TKey, TValue> dictionary) : IReadOnlyDictionary<TKey, TValue>
    where TKey : notnull
{
    public TValue this[TKey key] => dictionary[key];

    public IEnumerable<TKey> Keys => dictionary.Keys;

    public IEnumerable<TValue> Values => dictionary.Values;

    public int Count => dictionary.Count;

    public bool ContainsKey(TKey key) => dictionary.ContainsKey(key);

    public bool TryGetValue(TKey key, [MaybeNullWhen(false)] out TValue value) => dictionary.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator() => dictionary.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
