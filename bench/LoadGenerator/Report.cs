namespace OrleansRooms.LoadGenerator;

internal static class Report
{
    public static void Write(string results, string md, string svg) => throw new NotImplementedException();
}
