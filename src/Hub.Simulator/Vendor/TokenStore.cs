using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Hub.Simulator.Vendor;

/// <summary>Issued access tokens and when each stops being accepted.</summary>
internal sealed class TokenStore
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);

    public string Issue(DateTimeOffset expires, DateTimeOffset now)
    {
        if (_tokens.Count > 10_000)
        {
            foreach (var (token, until) in _tokens)
            {
                if (until <= now)
                {
                    _tokens.TryRemove(token, out _);
                }
            }
        }

        var value = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        _tokens[value] = expires;
        return value;
    }

    public bool IsValid(string token, DateTimeOffset now) => _tokens.TryGetValue(token, out var expires) && now < expires;

    public void RevokeAll() => _tokens.Clear();
}
