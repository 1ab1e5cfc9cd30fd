import { serve } from './http-service.ts';

const users: Record<string, { id: string; name: string }> = {
  '1': { id: '1', name: 'Ada' },
  '2': { id: '2', name: 'Grace' },
};

serve('user', {
  'GET /users/1': () => users['1'],
  'GET /users/2': () => users['2'],
});
