<?php
/**
 * WordPress-like lab stub for wp-includes/capabilities.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'capabilities.php';
