<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-recovery-mode-email-service.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-recovery-mode-email-service.php';
