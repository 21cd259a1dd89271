using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.App.Auth;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth;

/// <summary>
/// Sessions end after 30 minutes without activity and after 12 hours whatever the activity (the defaults), on the
/// real databases: the store refuses them the moment their time is up, activity seen by one instance counts on
/// another, and the sweep records each expired session once, as a SignOut of its person saying why.
/// </summary>
public abstract class SessionExpiryTests(DatabaseProvider provider) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeClock clock = new(Start);
    private readonly Guid userId = Guid.NewGuid();
    private DataServices data = null!;

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(provider);
        await using var db = await data.Contexts.CreateDbContextAsync();
        var group = new Group { Id = Guid.NewGuid(), Name = "finance" };
        db.Users.Add(new User { Id = userId, Issuer = "test", Subject = "sam-subject", DisplayName = "Sam Staff" });
        db.Groups.Add(group);
        db.GroupMemberships.Add(new GroupMembership { UserId = userId, GroupId = group.Id });
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await data.DisposeAsync();

    private SessionStore NewStore(DataServices? instance = null) => new((instance ?? data).Contexts, clock, SessionPolicy.Default);

    private SessionExpiry NewExpiry(SessionStore store, DataServices? instance = null) =>
        new((instance ?? data).Contexts, store, new SessionExpiryLock(), (instance ?? data).Audit, clock, NullLogger<SessionExpiry>.Instance);

    private Task<List<AuditEvent>> SignOutsAsync() => WithDb(db => db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditAction.SignOut).OrderBy(e => e.Id).ToListAsync());

    private async Task<T> WithDb<T>(Func<Portal.Data.PortalDbContext, Task<T>> query)
    {
        await using var db = await data.Contexts.CreateDbContextAsync();
        return await query(db);
    }

    [Fact]
    public async Task A_session_stops_after_30_minutes_without_activity_and_activity_keeps_it_going()
    {
        var store = NewStore();
        var id = await store.StartAsync(userId, null);

        clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(SessionState.Active, await store.ActivityAsync(id));
        clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(SessionState.Active, await store.StateAsync(id)); // 29 minutes since the activity; asking is not activity
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(SessionState.IdleTimedOut, await store.StateAsync(id));

        // Activity after the end does not bring it back, and it stays refused.
        Assert.Equal(SessionState.IdleTimedOut, await store.ActivityAsync(id));
        Assert.False(await store.IsActiveAsync(id));
    }

    [Fact]
    public async Task A_busy_session_still_ends_after_12_hours()
    {
        var store = NewStore();
        var id = await store.StartAsync(userId, null);
        for (var i = 0; i < 35; i++) // every 20 minutes for 11 hours 40 minutes
        {
            clock.Advance(TimeSpan.FromMinutes(20));
            Assert.Equal(SessionState.Active, await store.ActivityAsync(id));
        }
        clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(SessionState.LifetimeReached, await store.ActivityAsync(id));
    }

    [Fact]
    public async Task Activity_on_one_instance_keeps_the_session_alive_on_another()
    {
        var other = data.SecondInstance();
        await using var _ = other;
        var here = NewStore();
        var there = NewStore(other);
        var id = await here.StartAsync(userId, null);
        Assert.Equal(SessionState.Active, await there.StateAsync(id));

        clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(SessionState.Active, await here.ActivityAsync(id)); // written: the last write was 20 minutes ago
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(SessionState.Active, await here.ActivityAsync(id)); // not written: one write a minute at most
        Assert.Equal(Start.AddMinutes(20), await WithDb(db => db.Sessions.Where(s => s.Id == id).Select(s => s.LastActivityAt).SingleAsync()));

        // 45 minutes after sign-in, 25 after the activity: the other instance knows of it from the table.
        clock.Advance(TimeSpan.FromMinutes(24.5));
        Assert.Equal(SessionState.Active, await there.StateAsync(id));
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(SessionState.IdleTimedOut, await there.StateAsync(id));
        // This instance also saw the unwritten activity 30 s later, so for it the session has 30 s left.
        Assert.Equal(SessionState.Active, await here.StateAsync(id));
    }

    [Fact]
    public async Task The_sweep_records_each_expired_session_once_as_a_sign_out_saying_why_and_ends_it()
    {
        var store = NewStore();
        var old = await store.StartAsync(userId, null);
        for (var i = 0; i < 35; i++) // busy every 20 minutes until 11 h 40 min
        {
            clock.Advance(TimeSpan.FromMinutes(20));
            await store.ActivityAsync(old);
        }
        var idle = await store.StartAsync(userId, null);
        clock.Advance(TimeSpan.FromMinutes(5));
        var active = await store.StartAsync(userId, null);
        clock.Advance(TimeSpan.FromMinutes(26)); // 12 h 11 min after the first sign-in, 31 min after the second, 26 after the third
        Assert.Equal(SessionState.Active, await store.ActivityAsync(active));

        var other = data.SecondInstance();
        await using var _ = other;
        var sweeps = provider == DatabaseProvider.Sqlite
            ? [await NewExpiry(store).SweepAsync(), await NewExpiry(NewStore(other), other).SweepAsync()] // one app serves a SQLite file
            : await Task.WhenAll(NewExpiry(store).SweepAsync(), NewExpiry(NewStore(other), other).SweepAsync());
        Assert.Equal(2, sweeps.Sum());
        Assert.Equal(0, await NewExpiry(store).SweepAsync());

        var events = await SignOutsAsync();
        Assert.Equal(2, events.Count);
        var byIdle = Assert.Single(events, e => e.SessionId == idle.ToString());
        Assert.Equal($"Session ended: no activity for 30 minutes (last activity {Start.AddMinutes(700):yyyy-MM-dd HH:mm:ss} UTC)", byIdle.Reason);
        var byAge = Assert.Single(events, e => e.SessionId == old.ToString());
        Assert.Equal($"Session ended: signed in for 12 hours, the longest a session lasts (since {Start:yyyy-MM-dd HH:mm:ss} UTC)", byAge.Reason);
        foreach (var e in events)
            Assert.Equal((AuditOutcome.Allowed, userId, "sam-subject", "Sam Staff", "finance"),
                (e.Outcome, e.ActorUserId, e.ActorSubject, e.ActorDisplayName, e.ActorGroups));

        var sessions = await WithDb(db => db.Sessions.AsNoTracking().ToDictionaryAsync(s => s.Id));
        Assert.Equal(byIdle.Reason, sessions[idle].EndReason);
        Assert.Equal(byAge.Reason, sessions[old].EndReason);
        Assert.NotNull(sessions[idle].EndedAt);
        Assert.Null(sessions[active].EndedAt);
        Assert.Equal(SessionState.Ended, await NewStore().StateAsync(idle));
        Assert.Equal(SessionState.Active, await store.StateAsync(active));
    }

    [Fact]
    public async Task A_sweep_that_cannot_record_the_expiry_ends_nothing_and_the_next_one_does()
    {
        var store = NewStore();
        var id = await store.StartAsync(userId, null);
        clock.Advance(TimeSpan.FromMinutes(31));

        // The database refuses new audit events (as a full disk or a failing primary would).
        var (refuse, allow) = provider == DatabaseProvider.PostgreSQL
            ? ("""
               CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
               CREATE TRIGGER refuse_audit BEFORE INSERT ON "AuditEvents" FOR EACH ROW EXECUTE FUNCTION refuse_audit();
               """, """DROP TRIGGER refuse_audit ON "AuditEvents"; DROP FUNCTION refuse_audit();""")
            : ("""CREATE TRIGGER refuse_audit BEFORE INSERT ON "AuditEvents" BEGIN SELECT RAISE(ABORT, 'refused'); END;""",
               "DROP TRIGGER refuse_audit;");
        await WithDb(db => db.Database.ExecuteSqlRawAsync(refuse));
        await Assert.ThrowsAnyAsync<Exception>(() => NewExpiry(store).SweepAsync());
        Assert.Null(await WithDb(db => db.Sessions.Where(s => s.Id == id).Select(s => s.EndedAt).SingleAsync()));
        Assert.Equal(SessionState.IdleTimedOut, await store.StateAsync(id)); // refused all the same

        await WithDb(db => db.Database.ExecuteSqlRawAsync(allow));
        Assert.Equal(1, await NewExpiry(store).SweepAsync());
        Assert.Single(await SignOutsAsync());
    }

    [Fact]
    public async Task The_sweep_leaves_a_session_this_instance_saw_in_use_that_the_table_does_not_show_yet()
    {
        var store = NewStore();
        var id = await store.StartAsync(userId, null);
        clock.Advance(TimeSpan.FromMinutes(20));
        await store.ActivityAsync(id); // written
        clock.Advance(TimeSpan.FromSeconds(40));
        await store.ActivityAsync(id); // seen here, not written
        clock.Advance(TimeSpan.FromMinutes(29.5)); // 30 min 10 s since the written activity, 29 min 30 s since the last

        Assert.Equal(0, await NewExpiry(store).SweepAsync());
        Assert.Empty(await SignOutsAsync());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await NewExpiry(store).SweepAsync());
    }
}

public sealed class SqliteSessionExpiryTests() : SessionExpiryTests(DatabaseProvider.Sqlite);

public sealed class PostgresSessionExpiryTests() : SessionExpiryTests(DatabaseProvider.PostgreSQL);

/// <summary>
/// On SQLite a session's activity is written in turn with the app's other writers (<see cref="DatabaseWriteGate"/>):
/// meeting the audit writer on the file lock put one of them to sleep for 150 ms, and with many sessions downloads
/// stalled (docs/benchmarks.md, "Session activity on SQLite").
/// </summary>
public sealed class SqliteSessionActivityWriteTests : IAsyncLifetime
{
    private DataServices data = null!;

    public async Task InitializeAsync() => data = await DataServices.CreateAsync(DatabaseProvider.Sqlite);
    public async Task DisposeAsync() => await data.DisposeAsync();

    [Fact]
    public async Task The_activity_write_waits_for_its_turn_among_the_writers()
    {
        var userId = Guid.NewGuid();
        await using (var db = await data.Contexts.CreateDbContextAsync())
        {
            db.Users.Add(new User { Id = userId, Issuer = "test", Subject = "sam", DisplayName = "Sam Staff" });
            await db.SaveChangesAsync();
        }
        var clock = new FakeClock(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var gate = new DatabaseWriteGate(DatabaseProvider.Sqlite);
        var store = new SessionStore(data.Contexts, clock, SessionPolicy.Default, gate);
        var id = await store.StartAsync(userId, null);
        clock.Advance(TimeSpan.FromMinutes(2)); // the next activity is written

        var otherWriter = await gate.EnterAsync();
        var activity = store.ActivityAsync(id);
        await Task.Delay(300);
        Assert.False(activity.IsCompleted, "the activity was written while another writer had its turn");
        otherWriter.Dispose();
        Assert.Equal(SessionState.Active, await activity);
        await using var check = await data.Contexts.CreateDbContextAsync();
        Assert.Equal(clock.GetUtcNow(), await check.Sessions.Where(s => s.Id == id).Select(s => s.LastActivityAt).SingleAsync());
    }

    /// <summary>
    /// A sign-in storm next to downloads: the user row, the session row and its end are written in turn too. Without
    /// the turn, download p99 rose from 20 ms to 157-242 ms at 8 sign-ins a second (docs/benchmarks.md).
    /// </summary>
    [Fact]
    public async Task Sign_in_and_sign_out_write_in_turn_among_the_writers()
    {
        var clock = new FakeClock(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var gate = new DatabaseWriteGate(DatabaseProvider.Sqlite);
        var directory = new UserDirectory(data.Contexts, clock, gate);
        var store = new SessionStore(data.Contexts, clock, SessionPolicy.Default, gate);

        var user = await WaitsForTurnAsync(gate, () => directory.SignedInAsync("test", "sam", "Sam Staff", null, false, ["Staff"], ["staff"]));
        var session = await WaitsForTurnAsync(gate, () => store.StartAsync(user.Id, null));
        await WaitsForTurnAsync(gate, async () => { await store.EndAsync(session, "Signed out"); return true; });

        await using var check = await data.Contexts.CreateDbContextAsync();
        Assert.Equal("Signed out", await check.Sessions.Where(s => s.Id == session && s.EndedAt != null).Select(s => s.EndReason).SingleAsync());
    }

    private static async Task<T> WaitsForTurnAsync<T>(DatabaseWriteGate gate, Func<Task<T>> write)
    {
        var otherWriter = await gate.EnterAsync();
        var written = write();
        await Task.Delay(300);
        Assert.False(written.IsCompleted, "written while another writer had its turn");
        otherWriter.Dispose();
        return await written;
    }
}
