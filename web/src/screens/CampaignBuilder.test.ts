import { builderSchema, campaignBody, templateOf, type BuilderValues } from "./CampaignBuilder";

const base: BuilderValues = {
  name: "Winter edit",
  segment: "Champions",
  channel: "email",
  subject: "Hello {{ customer.first_name }}",
  html: "<p>Hi</p>",
  text: "Hi",
  sms: "ignored for e-mail",
  ab: false,
  subject_b: "",
  sms_b: "",
  holdout_percent: 10,
  scheduled_at: "2026-12-03T09:30",
};

describe("campaign builder", () => {
  it("sends the channel's own template parts with the hold-out as a fraction", () => {
    const body = campaignBody(base);
    expect(body.template).toEqual({ subject: "Hello {{ customer.first_name }}", html: "<p>Hi</p>", text: "Hi" });
    expect(body.holdout_fraction).toBe(0.1);
    expect(body.ab_test).toBeUndefined();
    expect(body.scheduled_at).toBe(new Date("2026-12-03T09:30").toISOString());
    expect(templateOf({ ...base, channel: "sms" })).toEqual({ sms: "ignored for e-mail" });
  });

  it("makes an A/B test of two variants differing in the subject, with the same hold-out", () => {
    const body = campaignBody({ ...base, ab: true, subject_b: "A gift inside", holdout_percent: 5 });
    expect(body.ab_test).toEqual({
      variants: {
        a: { subject: "Hello {{ customer.first_name }}", html: "<p>Hi</p>", text: "Hi" },
        b: { subject: "A gift inside", html: "<p>Hi</p>", text: "Hi" },
      },
      holdout_fraction: 0.05,
    });
  });

  it("refuses what the API would: no subject, no variant B, a hold-out above 50 %", () => {
    const issues = (values: Partial<BuilderValues>) => {
      const result = builderSchema.safeParse({ ...base, ...values });
      return result.success ? [] : result.error.issues.map((issue) => issue.path.join("."));
    };
    expect(issues({})).toEqual([]);
    expect(issues({ subject: " " })).toEqual(["subject"]);
    expect(issues({ ab: true })).toEqual(["subject_b"]);
    expect(issues({ channel: "sms", sms: "", ab: true })).toEqual(["sms", "sms_b"]);
    expect(issues({ holdout_percent: 60 })).toEqual(["holdout_percent"]);
  });
});
