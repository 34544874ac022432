using Hub.Core.Model;

namespace Hub.Tests.Model;

public class ProcedureCodesTests
{
    [Theory]
    [InlineData("1.005129", "1.005129")]
    [InlineData("1.003560.000.00.00.H56", "1.003560")]
    [InlineData("2.002154.000.00.00.H20", "2.002154")]
    [InlineData(" 1.001612 ", "1.001612")]
    [InlineData("1.005129.", "1.005129")]
    public void Base_code_is_the_first_two_dot_groups(string localCode, string expected) =>
        Assert.Equal(expected, ProcedureCodes.BaseCode(localCode));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("1")]
    [InlineData("TTHC-001")]
    [InlineData("H56.1.003560")]
    [InlineData("1.005129abc")]
    [InlineData(".005129")]
    [InlineData("1..005129")]
    [InlineData("١.٠٠٥١٢٩")]
    public void Code_not_in_national_form_has_no_base_code(string? localCode) =>
        Assert.Null(ProcedureCodes.BaseCode(localCode));
}
