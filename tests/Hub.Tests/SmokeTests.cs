namespace Hub.Tests;

public class SmokeTests
{
    [Fact]
    public void Status_codes_are_the_national_ones() => Assert.Equal(10, (int)Hub.Contracts.NationalStatus.ResultReturned);
}
