<?php
/**
 * WordPress-like lab stub for wp-includes/canonical.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'canonical.php';
