<?php
/**
 * WordPress-like lab stub for wp-includes/error-protection.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'error-protection.php';
