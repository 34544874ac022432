using System.Text;

namespace Hub.TestPlugin.Csv;

/// <summary>A CSV text with a header line (RFC 4180: quoted cells may hold delimiters, quotes and line breaks).</summary>
public sealed class CsvTable
{
    private CsvTable(IReadOnlyList<string> header, IReadOnlyList<CsvRow> rows)
    {
        Header = header;
        Rows = rows;
    }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The lines after the header, blank lines left out.</summary>
    public IReadOnlyList<CsvRow> Rows { get; }

    /// <summary>Reads a CSV text.</summary>
    /// <exception cref="FormatException">The text is not CSV with a header, or a line has another number of cells than the header.</exception>
    public static CsvTable Parse(string text, char delimiter = ',')
    {
        var lines = ReadRecords(text, delimiter).Where(r => r.Cells is not [""]).ToList();
        if (lines.Count == 0)
        {
            throw new FormatException("The CSV text has no header line.");
        }

        var header = lines[0].Cells;
        var rows = new List<CsvRow>(lines.Count - 1);
        foreach (var line in lines.Skip(1))
        {
            if (line.Cells.Count != header.Count)
            {
                throw new FormatException($"Line {line.LineNumber} has {line.Cells.Count} cells; the header has {header.Count}.");
            }

            rows.Add(new CsvRow(line.LineNumber, line.Cells));
        }

        return new CsvTable(header, rows);
    }

    private static IEnumerable<CsvRow> ReadRecords(string text, char delimiter)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var line = 1;
        var start = 1;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    line += c == '\n' ? 1 : 0;
                    cell.Append(c);
                }
            }
            else if (c == '"' && cell.Length == 0)
            {
                quoted = true;
            }
            else if (c == delimiter)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                cells.Add(cell.ToString());
                cell.Clear();
                yield return new CsvRow(start, cells);
                cells = [];
                start = ++line;
            }
            else
            {
                cell.Append(c);
            }
        }

        if (quoted)
        {
            throw new FormatException($"Line {start}: a quoted cell is not closed.");
        }

        if (cell.Length > 0 || cells.Count > 0)
        {
            cells.Add(cell.ToString());
            yield return new CsvRow(start, cells);
        }
    }
}

/// <summary>One line of a CSV text.</summary>
/// <param name="LineNumber">Its line number in the text, from 1.</param>
/// <param name="Cells">Its cells, in the header's order.</param>
public sealed record CsvRow(int LineNumber, IReadOnlyList<string> Cells);
