/**
 * NHS login's published test pack, its facts stated once: the password and static security code of the published
 * test accounts (data/*-accounts.csv hold the same), and a test patient of the integration PDS
 * (data/integration-pds-patients.csv) any new user may prove their identity with. test-data.md: "use the static
 * test OTP 190696".
 */
export const TEST_PACK = {
  /** The password of every published test account (testuserlive…@demo.signin.nhs.uk). */
  password: 'Passw0rd$1',
  /** The static security code: test environments send no SMS, so every test account and new account has it. */
  otp: '190696',
  /** Dinah Weir, a PDS record of the test pack. */
  patient: { nhsNumber: '9686368450', familyName: 'Weir', birthdate: '1954-06-14', postcode: 'HD1 4JP' },
} as const;
