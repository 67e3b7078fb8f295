import { Value } from "@sinclair/typebox/value";
import { describe, expect, it } from "vitest";
import { type BatchReading, OriginalDocument } from "../../schemas/batch.js";
import { localTimeFormatter, originalDocuments } from "../../sync/original.js";

const seoul = { group: "2", gps: "37.61002501514269, 126.99636868892937", timezone: "Asia/Seoul" };

function reading(
  seq: number,
  gas: BatchReading["gas"],
  value: number,
  ts: string,
  extra: Partial<BatchReading> = {},
): { seq: number; reading: BatchReading } {
  return {
    seq,
    reading: {
      id: `k3jd7fq2ma-r${seq.toString(36)}`,
      sensor: "gas0",
      gas,
      value,
      unit: "ppm",
      ts,
      flags: [],
      ...extra,
    },
  };
}

const TS = "2021-09-03T09:14:49.000Z";

describe("originalDocuments", () => {
  it("reproduces the original gas document byte for byte, plus its id", () => {
    const uploads = originalDocuments(seoul, [
      reading(1, "co", 26.2, TS, { sensorId: "0005", sensorType: "8" }),
      reading(2, "no2", 52, TS, { sensorId: "0006", sensorType: "9" }),
      reading(3, "c2h5oh", 26.11, TS, { sensorId: "0007", sensorType: "27" }),
      reading(4, "h2", 400, TS, { sensorId: "0008", sensorType: "30" }),
    ]);
    expect(uploads).toHaveLength(1);
    // The original example, with "400" written as "400.00": the schema asks for two decimals.
    // id = base64url(sha256("sensord.original.v1\n" + "13:k3jd7fq2ma-r1" + ...)[0..16]), checked with sha256sum.
    expect(JSON.stringify(uploads[0]?.document)).toBe(
      '{"id":"60Duxgw9dGzKvq-V_2VRzQ","groupid":"2","gps":"37.61002501514269, 126.99636868892937",' +
        '"co":{"sensorid":"0005","sensortype":"8","value":"26.20","createdtime":"2021-09-03 18:14:49"},' +
        '"no2":{"sensorid":"0006","sensortype":"9","value":"52.00","createdtime":"2021-09-03 18:14:49"},' +
        '"c2h5oh":{"sensorid":"0007","sensortype":"27","value":"26.11","createdtime":"2021-09-03 18:14:49"},' +
        '"h2":{"sensorid":"0008","sensortype":"30","value":"400.00","createdtime":"2021-09-03 18:14:49"}}',
    );
    expect(uploads[0]?.seqs).toEqual([1, 2, 3, 4]);
    expect(Value.Errors(OriginalDocument, uploads[0]?.document).First()).toBeUndefined();
  });

  it("writes empty sensorid/sensortype when unset and leaves gps out when null", () => {
    const [upload] = originalDocuments({ ...seoul, gps: null }, [reading(1, "co", -0.004, TS)]);
    expect(Object.keys(upload?.document ?? {})).toEqual(["id", "groupid", "co"]);
    expect(upload?.document.co).toEqual({
      sensorid: "",
      sensortype: "",
      value: "-0.00",
      createdtime: "2021-09-03 18:14:49",
    });
    expect(Value.Check(OriginalDocument, upload?.document)).toBe(true);
  });

  it("makes one document per sensor and sampling time, in arrival order", () => {
    const later = "2021-09-03T09:14:50.000Z";
    const uploads = originalDocuments(seoul, [
      reading(1, "co", 1, TS),
      reading(2, "co", 2, TS, { sensor: "gas1" }),
      reading(3, "no2", 3, TS),
      reading(4, "co", 4, later),
      reading(5, "no2", 5, TS, { sensor: "gas1" }),
    ]);
    expect(uploads.map((upload) => upload.seqs)).toEqual([[1, 3], [2, 5], [4]]);
    expect(uploads.map((upload) => Object.keys(upload.document).slice(3))).toEqual([
      ["co", "no2"],
      ["co", "no2"],
      ["co"],
    ]);
    expect(uploads[2]?.document.co).toMatchObject({ createdtime: "2021-09-03 18:14:50" });
    expect(new Set(uploads.map((upload) => upload.document.id)).size).toBe(3);
  });

  it("never overwrites a gas seen twice in one cycle", () => {
    const uploads = originalDocuments(seoul, [reading(1, "co", 1, TS), reading(2, "co", 2, TS)]);
    expect(uploads.map((upload) => upload.seqs)).toEqual([[1], [2]]);
  });

  it("gives the same id for the same readings and another for others", () => {
    const a = originalDocuments(seoul, [reading(1, "co", 1, TS)]);
    const b = originalDocuments({ ...seoul, group: "9" }, [reading(1, "co", 99, TS)]);
    const c = originalDocuments(seoul, [reading(2, "co", 1, TS)]);
    expect(a[0]?.document.id).toBe(b[0]?.document.id);
    expect(a[0]?.document.id).not.toBe(c[0]?.document.id);
  });
});

describe("localTimeFormatter", () => {
  it("writes the zone's wall clock, with 00 for midnight", () => {
    const seoulTime = localTimeFormatter("Asia/Seoul");
    expect(seoulTime("2021-09-03T09:14:49.000Z")).toBe("2021-09-03 18:14:49");
    expect(seoulTime("2021-09-03T15:00:00.000Z")).toBe("2021-09-04 00:00:00");
    expect(localTimeFormatter("UTC")("2021-12-31T23:59:59.999Z")).toBe("2021-12-31 23:59:59");
  });

  it("follows daylight saving time both ways", () => {
    const newYork = localTimeFormatter("America/New_York");
    expect(newYork("2021-03-14T06:59:59.000Z")).toBe("2021-03-14 01:59:59");
    expect(newYork("2021-03-14T07:00:00.000Z")).toBe("2021-03-14 03:00:00");
    // The repeated hour in November: the same wall clock for two instants.
    expect(newYork("2021-11-07T05:30:00.000Z")).toBe("2021-11-07 01:30:00");
    expect(newYork("2021-11-07T06:30:00.000Z")).toBe("2021-11-07 01:30:00");
  });
});
